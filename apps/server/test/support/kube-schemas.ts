import * as k8s from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';

/**
 * Checks a Kubernetes object against the API's own definitions: the JSON schemas generated from
 * the Kubernetes OpenAPI document (kubernetes-models: types, required fields, enums), and, as the
 * API server does with strict field validation, no field the OpenAPI models do not know
 * (@kubernetes/client-node's generated attribute maps). Throws naming the first problem.
 */
export function validateKubeObject(obj: { kind?: string }): void {
  const models: Record<string, { schema: new (o: any) => { validate(): void }; type: string }> = {
    Deployment: { schema: Deployment, type: 'V1Deployment' },
    Service: { schema: Service, type: 'V1Service' },
    Secret: { schema: Secret, type: 'V1Secret' },
  };
  const model = models[obj.kind ?? ''];
  if (!model) throw new Error(`no schema for kind ${obj.kind}`);
  new model.schema(obj).validate();
  knownFieldsOnly(obj, model.type, obj.kind!);
}

type AttributeMap = { name: string; baseName: string; type: string }[];

function knownFieldsOnly(value: unknown, type: string, path: string): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    for (const [i, v] of (value as unknown[]).entries()) knownFieldsOnly(v, array[1]!, `${path}[${i}]`);
    return;
  }
  const cls = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap }>)[type];
  if (!cls?.getAttributeTypeMap) return; // a primitive, a map or IntOrString
  const attrs = cls.getAttributeTypeMap();
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const attr = attrs.find((a) => a.baseName === key);
    if (!attr) throw new Error(`${path}.${key}: unknown field (${type})`);
    knownFieldsOnly(v, attr.type, `${path}.${key}`);
  }
}
