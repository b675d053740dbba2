// Multi-document YAML in and out, for the CLI (files of Pods, workloads and AsyncActors).
import { parseAllDocuments, stringify } from 'yaml';

export interface YamlDoc {
  source: string;
  index: number;
  value: unknown;
}

export class YamlError extends Error {
  override name = 'YamlError';
}

export function parseYamlDocuments(text: string, source: string): YamlDoc[] {
  const out: YamlDoc[] = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((doc, index) => {
    if ('errors' in doc && doc.errors.length > 0) throw new YamlError(`${source}: document ${index + 1}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    // A kubectl-style List expands into its items.
    const v = value as { kind?: unknown; items?: unknown };
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      for (const item of v.items) out.push({ source, index, value: item });
    } else out.push({ source, index, value });
  });
  return out;
}

export function toYamlDocuments(values: unknown[]): string {
  return values.map((v) => stringify(v, { lineWidth: 0 })).join('---\n');
}
