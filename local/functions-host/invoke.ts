// Invokes a registered handler the way the Functions Node worker does: the programming model that
// `@azure/functions` set builds the `InvocationContext`, `HttpRequest`, timer object etc. from an
// RPC invocation request (`getArguments`), runs the handler (`invokeFunction`) and turns the result
// into an RPC invocation response (`getResponse`); app hooks (preInvocation/postInvocation) run
// around it as in the worker's invocation handler. Nothing here builds the library's objects itself.
import { randomUUID } from "node:crypto";
import { GuardError } from "../../errors";
import { currentProgrammingModel, type RegisteredFunction, type RegisteredHook } from "./core-api";
import type {
  CoreInvocationContext,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcParameterBinding,
  RpcTypedData,
} from "./core-types";
import { errorMessage, type HostLogger, now } from "./logger";

export interface InvocationRequest {
  inputData: RpcParameterBinding[];
  triggerMetadata?: Record<string, RpcTypedData>;
  /** Durable instance this invocation works for (orchestrator episode or activity). */
  instanceId?: string;
  isReplay?: boolean;
}

export interface InvocationOutcome {
  invocationId: string;
  ok: boolean;
  response?: RpcInvocationResponse;
  error?: unknown;
  durationMs: number;
}

export function triggerBinding(fn: RegisteredFunction): { name: string; type: string } {
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    if (typeof binding.type === "string" && /trigger$/i.test(binding.type)) {
      return { name, type: binding.type };
    }
  }
  throw new GuardError("CONFIG_INVALID", `Function "${fn.metadata.name}" has no trigger binding.`);
}

export class FunctionInvoker {
  readonly #hooks: readonly RegisteredHook[];
  readonly #logger: HostLogger;
  readonly #appHookData: Record<string, unknown> = {};

  constructor(hooks: readonly RegisteredHook[], logger: HostLogger) {
    this.#hooks = hooks;
    this.#logger = logger;
  }

  async runAppHooks(name: "appStart" | "appTerminate", functionAppDirectory: string): Promise<void> {
    for (const hook of this.#hooks.filter((h) => h.name === name)) {
      await hook.callback({
        hookData: this.#appHookData,
        appHookData: this.#appHookData,
        functionAppDirectory,
      });
    }
  }

  async invoke(fn: RegisteredFunction, request: InvocationRequest): Promise<InvocationOutcome> {
    const model = currentProgrammingModel();
    if (model === undefined) {
      throw new GuardError(
        "CONFIG_INVALID",
        "No programming model was set: the app registered its functions without @azure/functions v4.",
      );
    }
    const invocationId = randomUUID();
    const trigger = triggerBinding(fn);
    const functionName = fn.metadata.name;
    const started = performance.now();
    const logger = this.#logger;
    const coreContext: CoreInvocationContext = {
      invocationId,
      request: {
        invocationId,
        functionId: functionName,
        inputData: request.inputData,
        triggerMetadata: request.triggerMetadata ?? {},
      },
      metadata: fn.metadata,
      log(level: RpcLogLevel, category: RpcLogCategory, message: string) {
        logger({
          kind: "log",
          time: now(),
          level,
          category,
          functionName,
          invocationId,
          ...(request.instanceId === undefined ? {} : { instanceId: request.instanceId }),
          message,
        });
      },
    };

    let outcome: InvocationOutcome;
    try {
      const invocationModel = model.getInvocationModel(coreContext);
      const { context, inputs: initialInputs } = await invocationModel.getArguments();
      const hookData: Record<string, unknown> = {};
      const pre: Record<string, unknown> = {
        hookData,
        appHookData: this.#appHookData,
        invocationContext: context,
        functionCallback: fn.handler,
        inputs: initialInputs,
      };
      coreContext.state = "preInvocationHooks";
      await this.#runHooks("preInvocation", pre);
      coreContext.state = "invocation";
      const inputs = pre.inputs as unknown[];
      const handler = pre.functionCallback as RegisteredFunction["handler"];
      const post: Record<string, unknown> = {
        hookData,
        appHookData: this.#appHookData,
        invocationContext: context,
        inputs,
        result: null,
        error: null,
      };
      try {
        post.result = await invocationModel.invokeFunction(context, inputs, handler);
      } catch (error) {
        post.error = error;
      }
      coreContext.state = "postInvocationHooks";
      try {
        await this.#runHooks("postInvocation", post);
      } finally {
        coreContext.state = undefined;
      }
      if (post.error !== null && post.error !== undefined) throw post.error;
      const response = await invocationModel.getResponse(context, post.result);
      outcome = { invocationId, ok: true, response, durationMs: performance.now() - started };
    } catch (error) {
      outcome = { invocationId, ok: false, error, durationMs: performance.now() - started };
    }
    logger({
      kind: "invocation",
      time: now(),
      functionName,
      invocationId,
      trigger: trigger.type,
      ...(request.instanceId === undefined ? {} : { instanceId: request.instanceId }),
      ...(request.isReplay === undefined ? {} : { isReplay: request.isReplay }),
      durationMs: Math.round(outcome.durationMs * 1000) / 1000,
      result: outcome.ok ? "Succeeded" : "Failed",
      ...(outcome.ok ? {} : { error: errorMessage(outcome.error) }),
    });
    return outcome;
  }

  async #runHooks(name: "preInvocation" | "postInvocation", context: Record<string, unknown>): Promise<void> {
    for (const hook of this.#hooks.filter((h) => h.name === name)) await hook.callback(context);
  }
}

/** The value an RPC typed datum carries, as the worker's `fromRpcTypedData` reads it (minus HTTP). */
export function typedDataValue(data: RpcTypedData | null | undefined): unknown {
  if (data === null || data === undefined) return undefined;
  if (typeof data.string === "string") return data.string;
  if (typeof data.json === "string") return JSON.parse(data.json);
  if (data.bytes !== null && data.bytes !== undefined) return Buffer.from(data.bytes);
  if (typeof data.int === "number") return data.int;
  if (typeof data.double === "number") return data.double;
  return undefined;
}

/** A value as the host would hand it to the worker: JSON, so it round-trips exactly. */
export function jsonTypedData(value: unknown): RpcTypedData | undefined {
  return value === undefined ? undefined : { json: JSON.stringify(value) };
}
