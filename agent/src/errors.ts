import { VigilError } from "@vigil/shared";

/** The agent's error catalogue; codes are stable. */
export const AgentErrors = {
  BAD_CONFIG: "VGL_ERR_AGENT_BAD_CONFIG",
} as const;

export class AgentError extends VigilError {
  constructor(code: (typeof AgentErrors)[keyof typeof AgentErrors], message: string) {
    super(code, message);
    this.name = "AgentError";
  }
}
