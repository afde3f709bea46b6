// What the page tells the visitor about its kernel connection. Pure, for tests.
import type { Kernel } from "@jupyterlab/services";
import { NOTICES, type NoticeKind } from "./notice";

export interface NoticeState {
  kind: NoticeKind;
  text: string;
  reload: boolean;
}

/** The notice for a kernel status / connection status, or null for "all is well".
 *  `wasConnected`: the first connection attempt is covered by "Starting the chat…". */
export function noticeFor(
  status: Kernel.Status,
  connection: Kernel.ConnectionStatus,
  wasConnected: boolean,
): NoticeState | null {
  // A restarted kernel has lost every widget: the page cannot continue either.
  if (status === "dead" || status === "restarting" || status === "autorestarting") {
    return { kind: "failed", text: NOTICES.kernelGone, reload: true };
  }
  if (connection === "disconnected") {
    return {
      kind: "failed",
      text: wasConnected ? NOTICES.kernelGone : NOTICES.noConnection,
      reload: true,
    };
  }
  if (connection === "connecting" && wasConnected) {
    return { kind: "reconnecting", text: NOTICES.reconnecting, reload: false };
  }
  return null;
}
