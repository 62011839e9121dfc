// The pure SCIM 2.0 protocol library (RFC 7643, RFC 7644, and the forms Microsoft Entra sends): no Nest, no
// database. Everything the SCIM module's other parts use is re-exported here.
export { FILTER_MAX_RESULTS, SCHEMAS, SCIM_CONTENT_TYPE } from './constants.js';
export { ScimError, scimErrorBody, type ScimType } from './errors.js';
export { coerceBoolean } from './values.js';
export { listResponse, parsePaging } from './list.js';
export {
  compileFilter,
  equalityOn,
  normaliseAttributePath,
  parseFilter,
  quoteBareValues,
  type FilterAttribute,
  type FilterAttributeMap,
  type FilterAttributeType,
  type FilterSubAttribute,
  type ScimFilter,
} from './filter.js';
export { applyPatch, normalisePatch, parsePatchPath, type PatchOperation, type PatchPath } from './patch.js';
export { project } from './project.js';
export { resourceTypes, schemaDocuments, serviceProviderConfig } from './discovery.js';
export { SCHEMA_DEFINITIONS, type AttributeDefinition, type SchemaDefinition } from './schemas.js';
