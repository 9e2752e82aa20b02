// OpenAI's File object and list, made from the store's record. Pure.
import type { StoredFile } from "../../jobs/files/file-store.ts";

export interface FileObjectView {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  /** OpenAI's deprecated status: a stored file is always processed. */
  status: "processed";
  expires_at: number | null;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function fileView(file: StoredFile): FileObjectView {
  return {
    id: file.id,
    object: "file",
    bytes: file.bytes,
    created_at: seconds(file.createdAtMs),
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
    expires_at: file.expiresAtMs === null ? null : seconds(file.expiresAtMs),
  };
}

/** OpenAI's cursor page: `after` the last id to read the next one. */
export function listView<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: "list" as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}
