// Builds a columnar batch (as the bindings hand it to a plugin) from plain
// records, for the SDK's tests.
const encoder = new TextEncoder();
const bytes = (data) => (typeof data === "string" ? encoder.encode(data) : Uint8Array.from(data));

function column(parts) {
  const ends = [];
  let length = 0;
  for (const part of parts) {
    length += part.length;
    ends.push(length);
  }
  const data = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    at += part.length;
  }
  return [data, new Uint32Array(ends)];
}

/** `records`: `{ value, key, headers: [[name, value]], timestampMs, position }`. */
export function batchOf(records) {
  const [values, valueEnds] = column(records.map((r) => bytes(r.value)));
  const [keys, keyEnds] = column(records.map((r) => bytes(r.key ?? "")));
  const headerParts = records.flatMap((r) => (r.headers ?? []).flatMap(([n, v]) => [bytes(n), bytes(v)]));
  const [headerData, headerDataEnds] = column(headerParts);
  let headers = 0;
  const [positions, positionEnds] = column(records.map((r, i) => bytes(r.position ?? String(100 + i))));
  return {
    origin: "orders",
    partition: "3",
    records: {
      values,
      valueEnds,
      keys,
      keyEnds,
      hasKey: Uint8Array.from(records.map((r) => (r.key == null ? 0 : 1))),
      headerEnds: Uint32Array.from(records.map((r) => (headers += (r.headers ?? []).length))),
      headerData,
      headerDataEnds,
    },
    timestamps: BigInt64Array.from(records.map((r) => BigInt(r.timestampMs ?? 0))),
    positions,
    positionEnds,
  };
}

const decoder = new TextDecoder();

/** The records of output `columns`, as `{ value, key, headers }` with text. */
export function recordsOf(c) {
  const span = (ends, i) => [i ? ends[i - 1] : 0, ends[i]];
  return Array.from(c.valueEnds, (_, i) => {
    const [h0, h1] = span(c.headerEnds, i);
    const headers = [];
    for (let h = h0; h < h1; h++) {
      headers.push([
        decoder.decode(c.headerData.subarray(...span(c.headerDataEnds, 2 * h))),
        decoder.decode(c.headerData.subarray(...span(c.headerDataEnds, 2 * h + 1))),
      ]);
    }
    return {
      value: decoder.decode(c.values.subarray(...span(c.valueEnds, i))),
      key: c.hasKey[i] ? decoder.decode(c.keys.subarray(...span(c.keyEnds, i))) : null,
      headers,
    };
  });
}
