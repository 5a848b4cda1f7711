/** What `mnemo export --format` writes; declared apart from the exporter so help need not load Arrow. */
export const exportFormats = ['jsonl', 'parquet', 'arrow'] as const;
export type ExportFormat = (typeof exportFormats)[number];
