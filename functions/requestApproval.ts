// Activity: sign the approval link and publish it to the notification topic (never to logs or status).
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { requestApproval } from "../orchestrations/activities/handlers";
import { ACTIVITIES, type RequestApprovalInput } from "../orchestrations/activity-names";

export const requestApprovalHandler = (input: RequestApprovalInput, context: InvocationContext) =>
  requestApproval(input, context);

df.app.activity(ACTIVITIES.requestApproval, { handler: requestApprovalHandler });
