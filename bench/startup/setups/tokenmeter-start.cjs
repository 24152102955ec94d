// Reference row (not a set-up anyone should use): tokenmeter's start() without register's ESM
// hooks, so `tokenmeter − tokenmeter-start` is what the hooks cost. A CommonJS file under
// --import, as register is (an ES module importing start.js would add the CommonJS-from-ESM
// translation to this row only). Blind to SDKs loaded with `import` (their ESM builds are never
// patched): that is why register always hooks ESM.
require('@tokenmeter/instrumentation/start').start();
