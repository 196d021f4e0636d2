import { initial } from "./001-initial.js";
import { agentTokens } from "./002-agent-tokens.js";
import { checks } from "./003-checks.js";
import { alerts } from "./004-alerts.js";
import { outbox } from "./005-outbox.js";
import { notifyState } from "./006-notify-state.js";
import { hostOwner } from "./007-host-owner.js";
import { tiers } from "./008-tiers.js";
import { storageHistory } from "./009-storage-history.js";
import { freshBlocks } from "./010-fresh-blocks.js";
import { apiAccess } from "./011-api-access.js";
import { cluster } from "./012-cluster.js";
import { openAlertsByHost } from "./013-open-alerts-by-host.js";
import type { Migration } from "./types.js";

export type { Migration, MigrationContext } from "./types.js";

/** Every migration, in order. Registered explicitly: nothing is discovered by scanning the filesystem. */
export const migrations: readonly Migration[] = [initial, agentTokens, checks, alerts, outbox, notifyState, hostOwner, tiers, storageHistory, freshBlocks, apiAccess, cluster, openAlertsByHost];
