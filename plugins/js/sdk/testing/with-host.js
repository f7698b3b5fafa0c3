// Loads the SDK under Node with the fake host: `await import("./with-host.js")`.
import { register } from "node:module";

register("./host-hooks.js", import.meta.url);

export const weir = await import("../weir.js");
export const { host } = await import("./fake-host.js");
