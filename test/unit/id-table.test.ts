// IdTable: given random adds and removes, then it answers exactly as a Map<string, handle> would,
// before and after a saveExact/loadExact round trip (with or without the hash slots), for Latin-1 and wider ids alike.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../projections/id-table.js';
import { seededRandom } from '../../bench/support/random.js';

const alphabet = ['a', 'b', 'z', '0', ':', 'é', 'ÿ', 'Ω', '語', '🙂'];

function randomId(random: () => number): string {
  const length = 1 + Math.floor(random() * 12);
  let id = '';
  for (let i = 0; i < length; i++) id += alphabet[Math.floor(random() * (random() < 0.9 ? 5 : alphabet.length))];
  return id;
}

function expectSame(table: IdTable, model: Map<string, number>): void {
  expect(table.size).toBe(model.size);
  for (const [id, handle] of model) {
    expect(table.get(id)).toBe(handle);
    expect(table.idOf(handle)).toBe(id);
  }
  expect([...table.handles()].sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b));
}

/** 20,000 random adds and removes; returns the Map they should leave the table equal to. */
function addAndRemoveRandomly(table: IdTable, seed: number): Map<string, number> {
  const random = seededRandom(seed);
  const model = new Map<string, number>();
  for (let step = 0; step < 20_000; step++) {
    const id = randomId(random);
    const handle = model.get(id);
    if (handle === undefined) {
      expect(table.get(id)).toBe(-1);
      model.set(id, table.add(id));
    } else if (random() < 0.6) {
      table.remove(handle);
      model.delete(id);
    }
  }
  return model;
}

describe('IdTable', () => {
  it('given a saveExact, when the table then grows its arena, compacts it and reuses handles, then loading what was saved gives the ids it was taken with', () => {
    const table = new IdTable();
    const before = Array.from({ length: 3_000 }, (_, i) => `before-${i}`);
    before.forEach((id) => table.add(id));
    const saved = table.saveExact({ slots: false }); // its characters are a view of the arena
    const handles = before.map((id) => table.get(id));
    for (let i = 0; i < before.length; i += 2) table.remove(handles[i]!); // past charsDead's threshold: the arena compacts
    for (let i = 0; i < 20_000; i++) table.add(`after-${i}-${'x'.repeat(i % 7)}`); // reused handles, the arena grown
    const loaded = IdTable.loadExact(saved);
    expect(handles.map((handle) => loaded.idOf(handle))).toEqual(before);
    expect(before.map((id) => loaded.get(id))).toEqual(handles);
  });

  it('given an id, when added, looked up and removed, then handles are dense and reused', () => {
    const table = new IdTable();
    expect(table.get('edge:1')).toBe(-1);
    expect(table.add('edge:1')).toBe(0);
    expect(table.add('edge:2')).toBe(1);
    expect(table.get('edge:2')).toBe(1);
    expect(table.idOf(1)).toBe('edge:2');
    table.remove(0);
    expect(table.has('edge:1')).toBe(false);
    expect(table.add('edge:3')).toBe(0);
    expect(table.handleLimit).toBe(2);
    expect(() => table.add('edge:3')).toThrow(/added twice/);
  });

  it.each([
    [1, true],
    [2, false],
    [3, true],
    [3, false],
  ])('given 20,000 random adds and removes (seed %i), then it matches a Map, also after saveExact (slots %s) and loadExact', (seed, slots) => {
    const table = new IdTable();
    const model = addAndRemoveRandomly(table, seed);
    expectSame(table, model);

    // saveExact keeps every handle, the free handles and their reuse order, through msgpack.
    const packr = new Packr({ moreTypes: true });
    const exact = IdTable.loadExact(packr.unpack(packr.pack(table.saveExact({ slots }))) as ReturnType<IdTable['saveExact']>);
    expectSame(exact, model);
    expect(exact.handleLimit).toBe(table.handleLimit);
    for (let i = 0; i < 50; i++) {
      expect(exact.nextHandle()).toBe(table.nextHandle());
      expect(exact.add(`new:${i}`)).toBe(table.add(`new:${i}`));
    }
    const [someId, someHandle] = [...model][0]!;
    exact.remove(someHandle);
    expect(exact.get(someId)).toBe(-1);
    expect(exact.add(someId)).toBe(someHandle);
  });

  it.each([4, 5])('given a table that keeps the id strings and 20,000 random adds and removes (seed %i), then it matches a Map, also after saveExact and loadExact', (seed) => {
    const table = new IdTable({ keepStrings: true });
    const model = addAndRemoveRandomly(table, seed);
    expectSame(table, model);
    const [someId, someHandle] = [...model][0]!;
    expect(table.idOf(someHandle)).toBe(someId);

    const packr = new Packr({ moreTypes: true });
    const saved = packr.unpack(packr.pack(table.saveExact({ slots: true }))) as ReturnType<IdTable['saveExact']>;
    expect(saved.chars.length).toBe(0); // the owner saves the ids
    const strings = new Array<string | undefined>(table.handleLimit);
    for (const [id, handle] of model) strings[handle] = id;
    const exact = IdTable.loadExact(saved, strings);
    expectSame(exact, model);
    expect(exact.add('new')).toBe(table.add('new'));
    exact.remove(someHandle);
    expect(exact.get(someId)).toBe(-1);
    expect(exact.add(someId)).toBe(someHandle);
    strings[someHandle] = undefined;
    expect(() => IdTable.loadExact(saved, strings)).toThrow(/has no id/);
  });

  it.each([false, true])('given a table loaded exactly (keepStrings %s), when it then grows past several rehashes and removes loaded ids, then it still matches a Map', (keepStrings) => {
    const table = new IdTable({ keepStrings });
    const model = addAndRemoveRandomly(table, 6);
    const strings = new Array<string | undefined>(table.handleLimit);
    for (const [id, handle] of model) strings[handle] = id;
    const exact = keepStrings ? IdTable.loadExact(table.saveExact({ slots: true }), strings) : IdTable.loadExact(table.saveExact({ slots: true }));
    // Removing before any rehash hashes the loaded ids from their characters; growing rehashes them all.
    const loaded = [...model];
    for (const [id, handle] of loaded.slice(0, 100)) {
      exact.remove(handle);
      model.delete(id);
    }
    for (let i = 0; i < 40_000; i++) model.set(`grown:${i}`, exact.add(`grown:${i}`));
    for (const [id, handle] of loaded.slice(100, 2_000)) {
      exact.remove(handle);
      model.delete(id);
    }
    expectSame(exact, model);
  });

  it('given a table whose slot array is growing (its old one moved over a few slots an add), when ids are looked up, removed, re-added and saved meanwhile, then it matches a Map at every step', () => {
    const table = new IdTable();
    const random = seededRandom(7);
    const model = new Map<string, number>();
    const growing = (): boolean => (table as unknown as { oldSlots: Int32Array | null }).oldSlots !== null;
    let stepsGrowing = 0;
    let savedGrowing = 0;
    for (let step = 0; step < 30_000; step++) {
      const id = `id:${step}`;
      expect(table.get(id)).toBe(-1);
      model.set(id, table.add(id));
      if (!growing()) continue;
      stepsGrowing++;
      const ids = [...model.keys()];
      const some = ids[Math.floor(random() * ids.length)]!;
      expect(table.get(some)).toBe(model.get(some));
      expect(table.getOrAdd(some)).toBe(model.get(some));
      if (random() < 0.3) {
        table.remove(model.get(some)!);
        model.delete(some);
        expect(table.get(some)).toBe(-1);
        if (random() < 0.5) model.set(some, table.add(some)); // back, under the handle just freed
      }
      if (step % 997 === 0) {
        expectSame(table, model);
        expectSame(IdTable.loadExact(table.saveExact({ slots: true })), model);
        savedGrowing++;
      }
    }
    expect(stepsGrowing).toBeGreaterThan(1_000);
    expect(savedGrowing).toBeGreaterThan(0);
    expectSame(table, model);
  });

  it('given saved characters cut short, when loaded exactly, then it fails loudly', () => {
    const table = new IdTable();
    table.add('abc');
    table.add('def');
    const saved = table.saveExact({ slots: false });
    expect(() => IdTable.loadExact({ ...saved, chars: saved.chars.subarray(0, 5) })).toThrow(/outside the characters/);
  });
});
