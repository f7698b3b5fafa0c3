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
export function getMany(keys) {
  const parts = keys.map((k) => host.state.get(k));
  const ends = new Uint32Array(keys.length);
  const found = new Uint8Array(keys.length);
  let length = 0;
  parts.forEach((p, i) => {
    length += p ? p.length : 0;
    ends[i] = length;
    found[i] = p ? 1 : 0;
  });
  const data = new Uint8Array(length);
  parts.forEach((p, i) => {
    if (p) data.set(p, ends[i] - p.length);
  });
  return { data, ends, found };
}
export function setMany(keys, values) {
  if (keys.length !== values.length) throw new Error("keys and values differ in length");
  keys.forEach((k, i) => host.state.set(k, values[i]));
}
export { remove as delete };
