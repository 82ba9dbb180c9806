// Activity: record a policy's answer to an offered catalog page in the catalog store.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { recordAdoption } from "../orchestrations/activities/handlers";
import { ACTIVITIES, type RecordAdoptionInput } from "../orchestrations/activity-names";

export const recordAdoptionHandler = (input: RecordAdoptionInput, context: InvocationContext) =>
  recordAdoption(input, context);

df.app.activity(ACTIVITIES.recordAdoption, { handler: recordAdoptionHandler });
