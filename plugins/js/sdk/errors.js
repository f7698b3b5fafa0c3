// Errors as weir reports them: the error's own line, then its stack.

// One stack frame, as StarlingMonkey (SpiderMonkey) writes it:
// `name@file:line:column`, the name empty for top-level code.
const SPIDERMONKEY = /^(.*?)@(.*:\d+:\d+)$/;
// ... and as V8 (Node, where the SDK's unit tests run) writes it.
const V8 = /^\s*at (?:(.*?) \((.*:\d+:\d+)\)|(.*:\d+:\d+))$/;

/** The frames of a stack text, top first, as `{ name, location }`. */
export function parseStack(stack) {
  const frames = [];
  for (const line of String(stack ?? "").split("\n")) {
    let m = V8.exec(line);
    if (m !== null) {
      frames.push(m[3] === undefined ? { name: m[1], location: m[2] } : { name: "", location: m[3] });
      continue;
    }
    m = SPIDERMONKEY.exec(line);
    if (m !== null) frames.push({ name: m[1], location: m[2] });
  }
  return frames;
}

/** The file of a `file:line:column` location. */
export function fileOf(location) {
  return location.replace(/:\d+:\d+$/, "");
}

function headline(error) {
  if (!(error instanceof Error)) {
    let shown;
    try {
      shown = typeof error === "string" ? JSON.stringify(error) : String(error);
    } catch {
      shown = typeof error;
    }
    return `uncaught ${typeof error}: ${shown}`;
  }
  const name = error.name || "Error";
  return error.message ? `${name}: ${error.message}` : name;
}

/**
 * `error` as weir reports it: `Name: message`, then one `    at name
 * (file:line:column)` line per frame. Frames from the file `stopAt` on
 * (the SDK's glue and the bindings below it) are left out, as their
 * locations say nothing about the plugin and include a temporary path.
 * A `cause` follows after "Caused by: ".
 */
export function describe(error, stopAt = null, depth = 0) {
  const lines = [headline(error)];
  if (error instanceof Error) {
    let stack = String(error.stack ?? "");
    // V8 starts the stack with the error's own line(s); SpiderMonkey does not.
    const own = String(error);
    if (stack.startsWith(own)) stack = stack.slice(own.length);
    const frames = parseStack(stack);
    // SpiderMonkey's stack starts in the constructors of an Error subclass
    // (`Fatal@sdk/kinds.js`); V8's starts where the error was made.
    const constructors = new Set();
    for (let p = Object.getPrototypeOf(error); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      constructors.add(p.constructor?.name);
    }
    while (frames.length > 0 && constructors.has(frames[0].name)) frames.shift();
    for (const { name, location } of frames) {
      if (stopAt !== null && fileOf(location) === stopAt) break;
      lines.push(name ? `    at ${name} (${location})` : `    at ${location}`);
    }
    if (error.cause !== undefined && depth < 8) {
      lines.push(`Caused by: ${describe(error.cause, stopAt, depth + 1)}`);
    }
  }
  return lines.join("\n");
}
