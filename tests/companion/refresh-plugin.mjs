// The suite installs @invite-ledger/better-auth as a copy (`install-links`, so it
// resolves `better-auth` from this suite's node_modules); this puts the package's
// latest build in that copy (`npm test` runs it after building the package).
import { cpSync, rmSync } from "node:fs";

const from = new URL("../../packages/better-auth/", import.meta.url);
const to = new URL("./node_modules/@invite-ledger/better-auth/", import.meta.url);
rmSync(new URL("dist", to), { recursive: true, force: true });
cpSync(new URL("dist", from), new URL("dist", to), { recursive: true });
cpSync(new URL("package.json", from), new URL("package.json", to));
