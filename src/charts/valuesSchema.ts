// The parts of the charts' values.schema.json that are the operator configuration or the actor spec, derived
// from their TypeBox schemas so that the charts never retype them (pure). scripts/generate-manifests.mjs writes
// them into charts/*/values.schema.json; its --check (test/integration/helm.manifests.test.ts) fails when a
// chart's schema is stale. The rest of each values.schema.json (image, rbac, webhook...) is the chart's own.
import type { TSchema } from '@sinclair/typebox';
import { AsyncActorSpecSchema } from '../api/schema.js';
import { transportPlugin, transportTypes } from '../transports/registry.js';
import { toPlainSchema } from '../util/schemaChecker.js';
import { OperatorConfigSchema, TransportEntrySchema } from '../config/schema.js';

type JsonSchema = Record<string, unknown>;

/**
 * A TypeBox schema as a chart values schema: objects closed (a misspelled key fails `helm install`), and a
 * property with a default not required (helm does not apply a JSON schema's defaults; our loader does).
 */
export function valuesSchemaOf(schema: TSchema): JsonSchema {
  const plain = toPlainSchema(schema, true);
  relaxDefaulted(plain);
  return plain;
}

function relaxDefaulted(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(relaxDefaulted);
  if (!node || typeof node !== 'object') return;
  const obj = node as JsonSchema;
  const props = obj.properties as Record<string, JsonSchema> | undefined;
  if (props && Array.isArray(obj.required)) {
    const required = (obj.required as string[]).filter((k) => props[k]?.default === undefined);
    if (required.length > 0) obj.required = required;
    else delete obj.required;
  }
  for (const value of Object.values(obj)) relaxDefaulted(value);
}

/** values.transports of asya-operator: entries by name, each `config` checked by its type's plugin schema. */
export function operatorTransportsValuesSchema(): JsonSchema {
  const configured = OperatorConfigSchema.properties.transports as unknown as { patternProperties: Record<string, unknown> };
  const namePattern = Object.keys(configured.patternProperties)[0];
  const entry = valuesSchemaOf(TransportEntrySchema);
  const types = transportTypes();
  (entry.properties as Record<string, JsonSchema>).type = { ...(entry.properties as Record<string, JsonSchema>).type, enum: types };
  entry.allOf = types.map((type) => ({
    if: { properties: { type: { const: type } } },
    then: { properties: { config: valuesSchemaOf(transportPlugin(type)!.configSchema) } },
  }));
  return {
    type: 'object',
    description: 'Transports by name (src/config/schema.ts, and src/transports/<type>/config.ts for `config`).',
    propertyNames: { pattern: namePattern },
    additionalProperties: entry,
  };
}

/** values.sidecar of asya-operator: the configuration's sidecar defaults. */
export function operatorSidecarValuesSchema(): JsonSchema {
  return valuesSchemaOf(OperatorConfigSchema.properties.sidecar);
}

/** The asya-actor chart's values passed through to the AsyncActor spec as they are. */
export function actorValuesSchemaParts(): Record<'transport' | 'sidecar' | 'timeout', JsonSchema> {
  const spec = AsyncActorSpecSchema.properties;
  return {
    transport: valuesSchemaOf(spec.transport),
    sidecar: valuesSchemaOf(spec.sidecar),
    timeout: valuesSchemaOf(spec.timeout),
  };
}
