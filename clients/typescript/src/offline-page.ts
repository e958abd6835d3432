/** The browser bundle of the offline client (esbuild → test/page/offline.js): `window.HL`. */
import { OfflineClient } from "./offline.js";

declare global {
  interface Window {
    HL: { OfflineClient: typeof OfflineClient };
  }
}

window.HL = { OfflineClient };
