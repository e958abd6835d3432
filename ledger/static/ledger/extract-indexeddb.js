/*
 * household_ledger — download the browser's ledger (IndexedDB `ledgerDB`) as one JSON file.
 *
 * Run it on the SPA's own page (IndexedDB belongs to the page's origin): open the browser's
 * developer tools (F12) → Console, paste this whole file, press Enter. A file named
 * `ledgerDB-YYYY-MM-DD.json` is downloaded; upload it to POST /backup/import (or give it to
 * support for `manage.py import_indexeddb`). Nothing is changed in the browser.
 *
 * The file uses the `dexie-export-import` format (formatName "dexie", formatVersion 1), so
 * Dexie's own importDB() can read it back too: every object store of the database, rows as
 * objects (inbound keys) or [key, value] pairs, JavaScript Dates encoded the Typeson way
 * (time value in ms, listed in the row's `$types`). Needs no library: plain IndexedDB.
 *
 * Served by the API at /static/ledger/extract-indexeddb.js.
 */
(async function extractLedgerDB(databaseName) {
  "use strict";

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function openExisting(name) {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(name);
      var created = false;
      // Opening a database that does not exist would create it: abort that instead.
      req.onupgradeneeded = function () {
        created = true;
        req.transaction.abort();
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () {
        reject(created
          ? new Error("There is no IndexedDB database named '" + name + "' on this page. " +
                      "Run this on the household ledger app's own page.")
          : req.error);
      };
      req.onblocked = function () {
        reject(new Error("The database is blocked by another tab; close other tabs and retry."));
      };
    });
  }

  // Dexie's schema string of a store: "++id,date,&name,*tags,[a+b]".
  function keyPathText(keyPath) {
    return Array.isArray(keyPath) ? "[" + keyPath.join("+") + "]" : keyPath || "";
  }

  function schemaOf(store) {
    var primary = (store.autoIncrement ? "++" : "") + keyPathText(store.keyPath);
    var parts = [primary];
    for (var i = 0; i < store.indexNames.length; i++) {
      var index = store.index(store.indexNames[i]);
      var prefix = index.unique ? "&" : index.multiEntry ? "*" : "";
      parts.push(prefix + keyPathText(index.keyPath));
    }
    return parts.join(",");
  }

  function escapeKey(key) {
    return String(key).replace(/~/g, "~0").replace(/\./g, "~1");
  }

  // Replace Dates by their time value and note where they were (Typeson's `$types`).
  function encode(value, path, types) {
    if (value instanceof Date) {
      var time = value.getTime();
      types[path.join(".")] = "date";
      return isNaN(time) ? "NaN" : time;
    }
    if (typeof value === "bigint") return value.toString();
    if (Array.isArray(value)) {
      return value.map(function (item, i) { return encode(item, path.concat(String(i)), types); });
    }
    if (value && typeof value === "object") {
      var copy = {};
      Object.keys(value).forEach(function (key) {
        copy[key] = encode(value[key], path.concat(escapeKey(key)), types);
      });
      return copy;
    }
    return value;
  }

  function encodeRow(value) {
    var types = {};
    var row = encode(value, [], types);
    if (Object.keys(types).length) row.$types = types;
    return row;
  }

  function encodePair(key, value) {
    var types = {};
    var pair = encode([key, value], [], types);
    return Object.keys(types).length ? { $: pair, $types: { $: types } } : pair;
  }

  var db = await openExisting(databaseName);
  try {
    var names = Array.prototype.slice.call(db.objectStoreNames);
    if (!names.length) throw new Error("'" + databaseName + "' has no tables.");
    // Ask for every store's rows at once, inside one read transaction (a consistent snapshot).
    var tx = db.transaction(names, "readonly");
    var pending = names.map(function (name) {
      var store = tx.objectStore(name);
      var inbound = store.keyPath !== null;
      return {
        name: name,
        schema: schemaOf(store),
        inbound: inbound,
        values: request(store.getAll()),
        keys: inbound ? null : request(store.getAllKeys()),
      };
    });
    var tables = [];
    var data = [];
    for (var i = 0; i < pending.length; i++) {
      var table = pending[i];
      var values = await table.values;
      var rows;
      if (table.inbound) {
        rows = values.map(encodeRow);
      } else {
        var keys = await table.keys;
        rows = values.map(function (value, j) { return encodePair(keys[j], value); });
      }
      tables.push({ name: table.name, schema: table.schema, rowCount: rows.length });
      data.push({ tableName: table.name, inbound: table.inbound, rows: rows });
    }
    var version = db.version % 10 === 0 ? db.version / 10 : db.version; // Dexie stores v×10
    var dump = {
      formatName: "dexie",
      formatVersion: 1,
      data: { databaseName: db.name, databaseVersion: version, tables: tables, data: data },
    };
  } finally {
    db.close();
  }

  var now = new Date();
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var filename = databaseName + "-" + now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" +
    pad(now.getDate()) + ".json";
  var blob = new Blob([JSON.stringify(dump)], { type: "application/json" });
  var link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.style.display = "none";
  document.body.appendChild(link);
  link.click();
  setTimeout(function () {
    URL.revokeObjectURL(link.href);
    link.remove();
  }, 60000);

  var summary = {};
  tables.forEach(function (t) { summary[t.name] = t.rowCount; });
  console.log("household_ledger: downloaded " + filename, summary);
  return { filename: filename, rows: summary };
})("ledgerDB");
