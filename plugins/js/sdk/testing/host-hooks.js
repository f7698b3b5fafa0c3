// Node module hooks for the SDK's tests: the component's imports
// (`weir:plugin/...`) resolve to the fake host in fake-host.js.
export async function resolve(specifier, context, next) {
  if (specifier.startsWith("weir:plugin/")) {
    return { url: new URL("./fake-host.js", import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
