// Validates every setting when the app starts, so a broken setting is named once, up front.
import { app } from "@azure/functions";
import { appSettings } from "../orchestrations/settings";

app.hook.appStart(() => {
  appSettings();
});
