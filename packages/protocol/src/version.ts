/** Bumped when a message between coordinator and agent changes shape. */
export const PROTOCOL_VERSION = 3;
export const FLOTILLA_VERSION = "0.1.0";
