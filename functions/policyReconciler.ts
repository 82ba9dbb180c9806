// The per-policy reconciler orchestration (orchestrations/reconciler.ts holds the logic).
import * as df from "durable-functions";
import { RECONCILER, reconcilerOrchestrator } from "../orchestrations/reconciler";

df.app.orchestration(RECONCILER, reconcilerOrchestrator);
