// The catalog room: requirement data per version, its schema and loader, and the pure renderer.
export { type CatalogDiff, diffCatalogs, type RequirementChange } from "./diff";
export { parseCloud, parseFeatures } from "./inputs";
export { catalogVersions, DEFAULT_CATALOG_VERSION, loadCatalog, parseCatalog } from "./load";
export { type ParameterValues, parameterHelp, parseParameters } from "./parameters";
export { closest, normaliseRegion, REGIONS } from "./regions";
export {
  type ApplicationRule,
  DNS_PROXY_NOTE,
  describePorts,
  entryApplies,
  featureOrder,
  fillTemplate,
  type NetworkRule,
  type RenderRequest,
  type RuleSet,
  renderRules,
  ruleName,
  type Unresolved,
} from "./render";
export * from "./schema";
