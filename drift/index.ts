// The drift room (DESIGN §2): pure rendering of the managed group, normalisation, diff and plan.
export { canonicalJson, sha256Hex } from "./canonical";
export {
  type ClusterFacts,
  detectFeatures,
  type ProfileResult,
  type ProfileSettings,
  profileFromFacts,
  TAG_FEATURES,
  TAG_FIREWALL_POLICY,
  TAG_MODE,
} from "./cluster-profile";
export { type DiffContext, diffGroups, FOREIGN_RULE, fieldDifferences } from "./diff";
export { formatPlan } from "./format";
export {
  checkLimits,
  GROUP_RULES_LIMIT_BYTES,
  NETWORK_PAIRS_LIMIT,
  networkPairs,
  POLICY_COLLECTIONS_LIMIT,
  rulesSize,
} from "./limits";
export {
  type CollectionKind,
  clusterHash,
  clusterKey,
  collectionName,
  ownedDescription,
  ownerOf,
  ownerOfCollection,
} from "./naming";
export {
  type CanonicalCollection,
  type CanonicalGroup,
  type CanonicalRule,
  normaliseCollection,
  normaliseGroup,
  normaliseRule,
  sameGroup,
} from "./normalise";
export {
  ABSENT_GROUP_HASH,
  changeHash,
  groupContentHash,
  type PlanInput,
  planHash,
  planPolicy,
  writeFailed,
} from "./plan";
export { allocatePriorities, PRIORITY_MAX, PRIORITY_MIN, SLOT_SIZE } from "./priorities";
export { type DesiredGroup, type DesiredGroupOptions, desiredGroup, sourcesOf } from "./render-group";
export { type ClusterTagging, type ServedOptions, servesCluster } from "./served";
export { findShadowing } from "./shadowing";
export * from "./types";
