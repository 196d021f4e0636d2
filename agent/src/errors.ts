import { codesOf, VigilError, type ErrorCatalogue } from "@vigil/shared";

/** The agent's error catalogue; codes are stable. */
export const AGENT_ERROR_CATALOGUE = {
  BAD_CONFIG: { code: "VGL_ERR_AGENT_BAD_CONFIG", meaning: "a flag or environment variable is wrong" },
} as const satisfies ErrorCatalogue;

export const AgentErrors = codesOf(AGENT_ERROR_CATALOGUE);

export class AgentError extends VigilError {
  constructor(code: (typeof AgentErrors)[keyof typeof AgentErrors], message: string) {
    super(code, message);
    this.name = "AgentError";
  }
}
