// The settings a pass depends on, as data in the orchestration's input and history. The orchestrator
// never reads the environment: replaying a pass after an operator changed a setting must schedule the
// same activities as the first run, so a change applies from the next pass.
import type { Mode } from "../drift/types";
import type { AppSettings } from "./settings";

export interface ReconcilerSettings {
  mode: Mode;
  removalsNeedApproval: boolean;
  maxRemovedShare: number;
  removalWindowHours: number;
  approvalTimeoutMinutes: number;
  debounceSeconds: number;
}

export function reconcilerSettingsFrom(settings: AppSettings): ReconcilerSettings {
  return {
    mode: settings.mode,
    removalsNeedApproval: settings.removalsNeedApproval,
    maxRemovedShare: settings.maxRemovedShare,
    removalWindowHours: settings.removalWindowHours,
    approvalTimeoutMinutes: settings.approvalTimeoutMinutes,
    debounceSeconds: settings.debounceSeconds,
  };
}
