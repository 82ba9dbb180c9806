// Activity: check a decision event's proof with the signing key (the orchestrator holds no key).
import * as df from "durable-functions";
import { verifyDecision } from "../orchestrations/activities/handlers";
import { ACTIVITIES, type VerifyDecisionInput } from "../orchestrations/activity-names";

export const verifyDecisionHandler = (input: VerifyDecisionInput) => verifyDecision(input);

df.app.activity(ACTIVITIES.verifyDecision, { handler: verifyDecisionHandler });
