/** Vigil's release version, reported by both binaries and sent in Hello. */
export const VIGIL_VERSION = "0.1.0";
