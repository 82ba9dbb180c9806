// Activity: write the decided plan (one PUT) and verify no drift remains (steps 7-8 of a pass).
import * as df from "durable-functions";
import { applyApprovedPlan } from "../orchestrations/activities/handlers";
import { ACTIVITIES, type ApplyInput } from "../orchestrations/activity-names";

export const applyPlanHandler = (input: ApplyInput) => applyApprovedPlan(input);

df.app.activity(ACTIVITIES.applyPlan, { handler: applyPlanHandler });
