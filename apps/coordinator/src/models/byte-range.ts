// What a `Range` header asks of a file of `size` bytes (RFC 9110 §14), as a
// pure function, so that every case is a unit test and the route only maps
// the answer to 200, 206 or 416. One range is served as asked; several
// (`bytes=0-1,5-9`) get the whole file with 200, which the RFC allows and
// every downloader handles, rather than a multipart/byteranges body nobody
// here reads. A header that is not a byte range at all (another unit,
// malformed numbers, last < first) is ignored the same way: the RFC lets a
// server ignore a Range it cannot use, and a 200 says so unambiguously.

export type ByteRange =
  /** Serve the whole file, 200. */
  | { kind: "whole" }
  /** Serve bytes start..end inclusive, 206 with `Content-Range: bytes start-end/size`. */
  | { kind: "partial"; start: number; end: number }
  /** Nothing of the file is in the range: 416 with `Content-Range: bytes *\/size`. */
  | { kind: "unsatisfiable" };

const WHOLE: ByteRange = { kind: "whole" };
const SPEC = /^(\d*)-(\d*)$/;

export function byteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return WHOLE;
  const match = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (match === null) return WHOLE;
  const specs = (match[1] ?? "").split(",").map((spec) => spec.trim());
  if (specs.length !== 1) return WHOLE;
  const parts = SPEC.exec(specs[0] ?? "");
  if (parts === null) return WHOLE;
  const [, first = "", last = ""] = parts;
  if (first === "" && last === "") return WHOLE;
  if (first === "") {
    // A suffix: the last N bytes (all of them when N is more than the file).
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return WHOLE;
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}

/** The `Content-Range` of an answer: `bytes start-end/size`, or `bytes *\/size` for a 416. */
export function contentRange(range: ByteRange, size: number): string | undefined {
  switch (range.kind) {
    case "whole":
      return undefined;
    case "partial":
      return `bytes ${range.start}-${range.end}/${size}`;
    case "unsatisfiable":
      return `bytes */${size}`;
  }
}
