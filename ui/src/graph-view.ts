// Draws a Neighbourhood with Cytoscape.js: pan and zoom come with it; a tap on a node expands it,
// a double tap opens it. New neighbours are placed on a ring around the node they were reached
// from instead of re-running a force layout, so what the reader already looked at stays put.

import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import type { Neighbourhood } from './neighbourhood.js';
import { nameOf } from './api.js';
import { colourOf } from './colours.js';

/** Label characters drawn on the canvas; the side list has the full name. */
const labelCharsMax = 28;
/** Ring radius around a parent: a base plus a little per neighbour so labels do not collide. */
const ringRadiusBasePx = 140;
const ringRadiusPerNodePx = 6;
/** Each further page of a node's neighbours goes on a ring this much further out. */
const ringGapPx = 90;
/** Two taps on one node within this are a double click (the usual desktop setting is ~500 ms). */
const doubleTapMs = 400;

export interface GraphEvents {
  expand(id: string): void;
  open(id: string): void;
}

export class GraphView {
  readonly cy: Core;
  /** Pages of neighbours already placed around each node, so the next page gets the next ring out. */
  private readonly rings = new Map<string, number>();
  private drawn: Neighbourhood | null = null;

  constructor(container: HTMLElement, events: GraphEvents) {
    this.cy = cytoscape({
      container,
      minZoom: 0.1,
      maxZoom: 4,
      // The default wheel step zooms ~3x a notch on a trackpad.
      wheelSensitivity: 0.3,
      style: [
        {
          selector: 'node',
          style: {
            'background-color': 'data(colour)',
            label: 'data(label)',
            'font-size': 11,
            color: '#1d2330',
            'text-valign': 'bottom',
            'text-margin-y': 4,
            'text-background-color': '#ffffff',
            'text-background-opacity': 0.8,
            'text-background-padding': '1px',
            width: 22,
            height: 22,
          },
        },
        { selector: 'node.focus', style: { width: 34, height: 34, 'border-width': 3, 'border-color': '#1d2330', 'font-weight': 'bold' } },
        { selector: 'node.expandable', style: { 'border-width': 2, 'border-style': 'dashed', 'border-color': '#5b6475' } },
        {
          selector: 'edge',
          style: {
            width: 1.5,
            'line-color': '#a3abb9',
            'target-arrow-color': '#a3abb9',
            'target-arrow-shape': 'triangle',
            'curve-style': 'bezier',
            label: 'data(label)',
            'font-size': 9,
            color: '#5b6475',
            'text-rotation': 'autorotate',
            'text-background-color': '#ffffff',
            'text-background-opacity': 0.8,
          },
        },
      ],
    });
    // Cytoscape's own dbltap fires for two quick taps on different nodes too; a double click
    // here is two taps on the same node.
    let lastTap = { id: '', atMs: 0 };
    this.cy.on('tap', 'node', (event) => {
      const id = event.target.id() as string;
      const atMs = performance.now();
      const double = lastTap.id === id && atMs - lastTap.atMs < doubleTapMs;
      lastTap = { id, atMs };
      if (double) events.open(id);
      else events.expand(id);
    });
  }

  /** Makes the drawing match `model`: removes what left it, adds and places what is new. */
  draw(model: Neighbourhood): void {
    if (model !== this.drawn) this.rings.clear();
    this.drawn = model;
    const wanted = new Set<string>([...model.nodes.keys(), ...[...model.edges.values()].map((e) => `edge:${e.key}`)]);
    this.cy.batch(() => {
      this.cy.elements().forEach((element) => {
        if (!wanted.has(element.id())) element.remove();
      });
      const added: ElementDefinition[] = [];
      const fresh = [...model.nodes.values()].filter((n) => this.cy.getElementById(n.record.id).empty());
      const byParent = new Map<string, number>();
      for (const node of fresh) byParent.set(node.parent ?? '', (byParent.get(node.parent ?? '') ?? 0) + 1);
      const placed = new Map<string, number>();
      for (const node of fresh) {
        const parentKey = node.parent ?? '';
        const index = placed.get(parentKey) ?? 0;
        placed.set(parentKey, index + 1);
        added.push({
          group: 'nodes',
          data: { id: node.record.id, label: shorten(nameOf(node.record)), colour: colourOf(node.record.domain) },
          position: this.ringPosition(model, node.parent, index, byParent.get(parentKey) ?? 1, this.rings.get(parentKey) ?? 0),
        });
      }
      for (const parentKey of byParent.keys()) this.rings.set(parentKey, (this.rings.get(parentKey) ?? 0) + 1);
      this.cy.add(added);
      for (const edge of model.edges.values()) {
        if (!this.cy.getElementById(`edge:${edge.key}`).empty()) continue;
        this.cy.add({ group: 'edges', data: { id: `edge:${edge.key}`, source: edge.source, target: edge.target, label: edge.relations.join(', ') } });
      }
      this.cy.nodes().forEach((n) => {
        n.toggleClass('focus', n.id() === model.focus.id);
        n.toggleClass('expandable', model.canExpand(n.id()) && n.id() !== model.focus.id);
      });
    });
  }

  /** Fits everything into view when something drawn lies outside it (a new ring off screen). */
  fitIfHidden(): void {
    const view = this.cy.extent();
    const hidden = this.cy.nodes().toArray().some((n) => {
      const p = n.position();
      return p.x < view.x1 || p.x > view.x2 || p.y < view.y1 || p.y > view.y2;
    });
    if (hidden) this.fit();
  }

  /** Fits everything drawn into view. */
  fit(): void {
    this.cy.fit(undefined, 40);
  }

  destroy(): void {
    this.cy.destroy();
  }

  private ringPosition(model: Neighbourhood, parentId: string | undefined, index: number, count: number, ring: number): { x: number; y: number } {
    if (parentId === undefined) return { x: 0, y: 0 };
    const parent = this.cy.getElementById(parentId);
    const centre = parent.empty() ? { x: 0, y: 0 } : parent.position();
    const radius = ringRadiusBasePx + ringRadiusPerNodePx * count + ringGapPx * ring;
    // Successive rings are turned by half a step so their labels interleave instead of lining up.
    const turn = ring % 2 === 0 ? 0 : 0.5;
    // Around the open node: a full circle. Around anyone else: a half circle facing away from
    // the open node, so the new ring does not fall on the old one.
    const focus = this.cy.getElementById(model.focus.id);
    if (parentId === model.focus.id || focus.empty()) {
      const angle = (2 * Math.PI * (index + turn)) / count - Math.PI / 2;
      return { x: centre.x + radius * Math.cos(angle), y: centre.y + radius * Math.sin(angle) };
    }
    const away = Math.atan2(centre.y - focus.position().y, centre.x - focus.position().x);
    const angle = away - Math.PI / 2 + (Math.PI * (index + 0.5 + turn / 2)) / count;
    return { x: centre.x + radius * Math.cos(angle), y: centre.y + radius * Math.sin(angle) };
  }
}

function shorten(text: string): string {
  return text.length > labelCharsMax ? `${text.slice(0, labelCharsMax - 1)}…` : text;
}
