// A fake of weir's host services for the SDK's tests: what the plugin
// logs, counts and stores lands in `host`.
export const host = { logs: [], metrics: [], state: new Map() };

export function log(level, message) {
  host.logs.push([level, message]);
}
export function counterAdd(name, delta) {
  host.metrics.push(["counter", name, delta]);
}
export function gaugeSet(name, value) {
  host.metrics.push(["gauge", name, value]);
}
export function histogramObserve(name, value) {
  host.metrics.push(["histogram", name, value]);
}
export function get(key) {
  return host.state.get(key);
}
export function set(key, value) {
  host.state.set(key, value);
}
function remove(key) {
  host.state.delete(key);
}
export { remove as delete };
