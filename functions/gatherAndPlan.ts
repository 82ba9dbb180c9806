// Activity: read the clusters and the policy, and plan (steps 1-4 of a pass).
import * as df from "durable-functions";
import { gatherAndPlan } from "../orchestrations/activities/handlers";
import { ACTIVITIES, type GatherInput } from "../orchestrations/activity-names";

export const gatherAndPlanHandler = (input: GatherInput) => gatherAndPlan(input);

df.app.activity(ACTIVITIES.gatherAndPlan, { handler: gatherAndPlanHandler });
