/* medkg query page: a small SPARQL highlighter over the textarea, examples, run via fetch,
   results as a table, downloads and a permalink. No library, no network beyond /sparql.
   Every value from the server or the user reaches the page through textContent or
   setAttribute, never innerHTML. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("query-config").textContent);
  var form = document.getElementById("query-form");
  var textarea = document.getElementById("query");
  var editor = document.getElementById("editor");
  var code = document.querySelector("#highlight code");
  var pre = document.getElementById("highlight");
  var exampleSelect = document.getElementById("example");
  var question = document.getElementById("example-question");
  var permalink = document.getElementById("permalink");
  var results = document.getElementById("results");
  var statusLine = document.getElementById("status");
  var errorBox = document.getElementById("error");
  var downloads = document.getElementById("downloads");
  var tableBox = document.getElementById("table-box");
  var table = document.getElementById("table");
  var MAX_SHOWN = 2000;

  /* ---- highlighting ------------------------------------------------------------------- */

  var KEYWORDS = ("select construct describe ask where from named prefix base distinct reduced " +
    "optional union minus graph service silent filter bind values as order by asc desc group " +
    "having limit offset not exists in a true false undef count sum min max avg sample " +
    "group_concat separator str lang langmatches datatype bound iri uri bnode rand abs ceil " +
    "floor round concat strlen ucase lcase encode_for_uri contains strstarts strends " +
    "strbefore strafter year month day hours minutes seconds timezone tz now uuid struuid md5 " +
    "sha1 sha256 sha384 sha512 coalesce if strlang strdt sameterm isiri isuri isblank " +
    "isliteral isnumeric regex substr replace").split(" ");
  var KEYWORD_SET = {};
  KEYWORDS.forEach(function (k) { KEYWORD_SET[k] = true; });

  // one sticky-free scanner: at each position try the token patterns in order
  var PATTERNS = [
    ["comment", /^#[^\n]*/],
    ["str", /^("""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:[^"\\\n]|\\.)*(?:"|$)|'(?:[^'\\\n]|\\.)*(?:'|$))/],
    ["iri", /^<[^<>"{}|^`\\\s]*>/],
    ["var", /^[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+/],
    ["pname", /^(?:[A-Za-z][\w.-]*)?:(?:[\w\u00C0-\uFFFF%-](?:[\w.\u00C0-\uFFFF%:-]*[\w\u00C0-\uFFFF%:-])?)?/],
    ["num", /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/],
    ["word", /^[A-Za-z_][A-Za-z0-9_]*/],
    ["space", /^\s+/],
    ["punct", /^[{}()\[\].,;*=!<>|&^\/+-]+/]
  ];

  function tokenize(text) {
    var tokens = [];
    var rest = text;
    while (rest.length) {
      var matched = false;
      for (var i = 0; i < PATTERNS.length; i++) {
        var m = PATTERNS[i][1].exec(rest);
        if (m && m[0].length) {
          var type = PATTERNS[i][0];
          if (type === "word") type = KEYWORD_SET[m[0].toLowerCase()] ? "kw" : "plain";
          if (type === "num" && /[A-Za-z_]/.test(rest.charAt(m[0].length))) {
            continue; // a number glued to letters is part of a name
          }
          tokens.push([type, m[0]]);
          rest = rest.slice(m[0].length);
          matched = true;
          break;
        }
      }
      if (!matched) {
        tokens.push(["plain", rest.charAt(0)]);
        rest = rest.slice(1);
      }
    }
    return tokens;
  }

  function highlight() {
    var fragment = document.createDocumentFragment();
    tokenize(textarea.value).forEach(function (token) {
      if (token[0] === "space" || token[0] === "plain") {
        fragment.appendChild(document.createTextNode(token[1]));
      } else {
        var span = document.createElement("span");
        span.className = "tok-" + token[0];
        span.textContent = token[1];
        fragment.appendChild(span);
      }
    });
    fragment.appendChild(document.createTextNode("\n ")); // keep the last line's height
    code.textContent = "";
    code.appendChild(fragment);
    syncScroll();
  }

  function syncScroll() {
    pre.scrollTop = textarea.scrollTop;
    pre.scrollLeft = textarea.scrollLeft;
  }

  /* ---- state in the URL ----------------------------------------------------------------- */

  function permalinkFor(text) {
    return config.queryPath + "?query=" + encodeURIComponent(text);
  }

  function updatePermalink() {
    permalink.setAttribute("href", permalinkFor(textarea.value));
  }

  /* ---- examples -------------------------------------------------------------------------- */

  function findExample(name) {
    for (var i = 0; i < config.examples.length; i++) {
      if (config.examples[i].name === name) return config.examples[i];
    }
    return null;
  }

  function showQuestion(example) {
    if (question) question.textContent = example ? example.question : "";
  }

  if (exampleSelect) {
    exampleSelect.addEventListener("change", function () {
      var example = findExample(exampleSelect.value);
      showQuestion(example);
      if (!example) return;
      textarea.value = example.text;
      textarea.scrollTop = 0;
      highlight();
      updatePermalink();
    });
    showQuestion(findExample(exampleSelect.value));
  }

  /* ---- rendering terms ------------------------------------------------------------------- */

  function localHref(iri) {
    // mirrors medkg.urls.href: our entity IRIs -> local pages
    if (iri.indexOf(config.baseIri) === 0) {
      var rest = iri.slice(config.baseIri.length);
      var hash = rest.indexOf("#");
      var fragment = hash >= 0 ? rest.slice(hash) : "";
      var path = hash >= 0 ? rest.slice(0, hash) : rest;
      var parts = path.split("/");
      if (parts.length === 2 && parts[1] && config.kinds.indexOf(parts[0]) >= 0) {
        return "/" + parts[0] + "/" + parts[1] + fragment;
      }
      if (parts.length === 1 && config.kinds.indexOf(parts[0]) >= 0 && !fragment) {
        return "/" + parts[0];
      }
    }
    if (iri.indexOf(config.ontologyNs) === 0) {
      return config.ontologyPath + "#" + iri.slice(config.ontologyNs.length);
    }
    return null;
  }

  function compact(iri) {
    var best = null;
    Object.keys(config.prefixes).forEach(function (name) {
      var ns = config.prefixes[name];
      if (iri.indexOf(ns) === 0 && (!best || ns.length > best[1].length)) best = [name, ns];
    });
    if (best) {
      var local = iri.slice(best[1].length);
      if (/^[\w.-]*$/.test(local)) return best[0] + ":" + local;
    }
    if (iri.indexOf(config.baseIri) === 0) return iri.slice(config.baseIri.length);
    return iri;
  }

  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var NUMBERS = ["integer", "decimal", "double", "float", "long", "int", "nonNegativeInteger"];

  function isNumber(term) {
    return !!term && term.type === "literal" && !!term.datatype &&
      term.datatype.indexOf(XSD) === 0 && NUMBERS.indexOf(term.datatype.slice(XSD.length)) >= 0;
  }

  function termNode(term) {
    if (!term) return document.createTextNode("");
    if (term.type === "uri") {
      var a = document.createElement("a");
      var local = localHref(term.value);
      a.setAttribute("href", local || term.value);
      if (!local) a.setAttribute("rel", "noopener nofollow");
      a.setAttribute("title", term.value);
      a.textContent = compact(term.value);
      return a;
    }
    if (term.type === "bnode") return document.createTextNode("_:" + term.value);
    if (term.type === "triple") {
      var span = document.createElement("span");
      span.appendChild(document.createTextNode("<< "));
      ["subject", "predicate", "object"].forEach(function (part) {
        span.appendChild(termNode(term.value[part]));
        span.appendChild(document.createTextNode(" "));
      });
      span.appendChild(document.createTextNode(">>"));
      return span;
    }
    var wrap = document.createElement("span");
    wrap.appendChild(document.createTextNode(term.value));
    var note = null;
    if (term["xml:lang"]) {
      note = document.createElement("span");
      note.className = "lang";
      note.textContent = "@" + term["xml:lang"];
    } else if (term.datatype && term.datatype !== XSD + "string" && !isNumber(term)) {
      note = document.createElement("span");
      note.className = "dt";
      note.textContent = compact(term.datatype);
    }
    if (note) wrap.appendChild(note);
    return wrap;
  }

  function drawTable(vars, rows) {
    table.textContent = "";
    var thead = document.createElement("thead");
    var head = document.createElement("tr");
    var hash = document.createElement("th");
    hash.className = "idx";
    hash.textContent = "#";
    head.appendChild(hash);
    vars.forEach(function (name) {
      var th = document.createElement("th");
      th.setAttribute("scope", "col");
      th.textContent = name;
      head.appendChild(th);
    });
    thead.appendChild(head);
    table.appendChild(thead);
    var tbody = document.createElement("tbody");
    rows.slice(0, MAX_SHOWN).forEach(function (row, i) {
      var tr = document.createElement("tr");
      var idx = document.createElement("td");
      idx.className = "idx";
      idx.textContent = String(i + 1);
      tr.appendChild(idx);
      vars.forEach(function (name) {
        var td = document.createElement("td");
        var term = row[name];
        if (term && term.type === "bnode") td.className = "bnode";
        if (isNumber(term)) {
          td.className = "num";
          td.setAttribute("title", term.datatype);
        }
        td.appendChild(termNode(term));
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    tableBox.hidden = false;
  }

  /* ---- N-Triples (CONSTRUCT / DESCRIBE answers) ------------------------------------------ */

  var NT_TERM = /<([^>]*)>|_:([^\s]+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?/g;

  function unescapeLiteral(text) {
    return text.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, function (_, e) {
      if (e.charAt(0) === "u" || e.charAt(0) === "U") return String.fromCodePoint(parseInt(e.slice(1), 16));
      return { t: "\t", n: "\n", r: "\r", b: "\b", f: "\f" }[e] || e;
    });
  }

  function parseNTriples(body) {
    var rows = [];
    body.split("\n").forEach(function (line) {
      line = line.trim();
      if (!line || line.charAt(0) === "#") return;
      var terms = [];
      var m;
      NT_TERM.lastIndex = 0;
      while ((m = NT_TERM.exec(line)) && terms.length < 3) {
        if (m[1] !== undefined) terms.push({ type: "uri", value: m[1] });
        else if (m[2] !== undefined) terms.push({ type: "bnode", value: m[2] });
        else {
          var lit = { type: "literal", value: unescapeLiteral(m[3]) };
          if (m[4]) lit["xml:lang"] = m[4];
          if (m[5]) lit.datatype = m[5];
          terms.push(lit);
        }
      }
      if (terms.length === 3) rows.push({ subject: terms[0], predicate: terms[1], object: terms[2] });
    });
    return rows;
  }

  /* ---- running a query ------------------------------------------------------------------- */

  var RESULT_FORMATS = [["JSON", "json"], ["XML", "xml"], ["CSV", "csv"], ["TSV", "tsv"]];
  var GRAPH_FORMATS = [["Turtle", "ttl"], ["N-Triples", "nt"], ["JSON-LD", "jsonld"], ["RDF/XML", "rdf"]];

  function showDownloads(text, formats) {
    downloads.textContent = "";
    downloads.appendChild(document.createTextNode("Download: "));
    formats.forEach(function (f) {
      var a = document.createElement("a");
      a.setAttribute("href", config.endpoint + "?query=" + encodeURIComponent(text) +
        "&format=" + f[1]);
      a.setAttribute("download", "results." + f[1]);
      a.textContent = f[0];
      downloads.appendChild(a);
    });
    downloads.hidden = false;
  }

  function showError(status, payload, fallback) {
    errorBox.textContent = "";
    var title = document.createElement("strong");
    var err = payload && payload.error;
    title.textContent = (err ? err.status + " " + err.type : "Error " + status) + ": ";
    errorBox.appendChild(title);
    var message = err ? err.message : fallback;
    if (err && err.line) message += "\n(line " + err.line + ", column " + err.column + ")";
    errorBox.appendChild(document.createTextNode(message || "the query failed"));
    errorBox.hidden = false;
    if (err && err.line) selectLine(err.line);
  }

  function selectLine(line) {
    var lines = textarea.value.split("\n");
    if (line < 1 || line > lines.length) return;
    var start = 0;
    for (var i = 0; i < line - 1; i++) start += lines[i].length + 1;
    textarea.setSelectionRange(start, start + lines[line - 1].length);
  }

  function setStatus(text, busy) {
    statusLine.textContent = text;
    statusLine.className = "status" + (busy ? " busy" : "");
  }

  function plural(n, word) {
    return n.toLocaleString() + " " + word + (n === 1 ? "" : "s");
  }

  var running = null;

  function run() {
    var text = textarea.value;
    if (!text.trim()) return;
    if (running) running.abort();
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    running = controller;
    results.hidden = false;
    errorBox.hidden = true;
    downloads.hidden = true;
    tableBox.hidden = true;
    setStatus("Running…", true);
    var started = performance.now();
    var link = permalinkFor(text);
    permalink.setAttribute("href", link);
    try { history.replaceState(null, "", link); } catch (e) { /* file:// or old browser */ }
    var body = new URLSearchParams();
    body.set("query", text);
    fetch(config.endpoint, {
      method: "POST",
      headers: {
        "Accept": "application/sparql-results+json, application/n-triples;q=0.9",
        "Content-Type": "application/x-www-form-urlencoded"
      },
      body: body.toString(),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.text().then(function (payload) {
        var ms = Math.round(performance.now() - started);
        var type = response.headers.get("Content-Type") || "";
        var truncated = response.headers.get("X-Medkg-Truncated");
        if (!response.ok) {
          var parsed = null;
          try { parsed = JSON.parse(payload); } catch (e) { parsed = null; }
          setStatus("Failed after " + ms + " ms", false);
          showError(response.status, parsed, payload.slice(0, 500));
          return;
        }
        var note = truncated ? " · cut at the row limit (" + truncated + ")" : "";
        if (type.indexOf("application/sparql-results+json") === 0) {
          var doc = JSON.parse(payload);
          showDownloads(text, RESULT_FORMATS);
          if (typeof doc.boolean === "boolean") {
            setStatus("ASK answered " + doc.boolean + " in " + ms + " ms", false);
            drawTable(["answer"], [{ answer: { type: "literal", value: String(doc.boolean) } }]);
            return;
          }
          var rows = doc.results.bindings;
          setStatus(plural(rows.length, "row") + " in " + ms + " ms" + note +
            (rows.length > MAX_SHOWN ? " · showing the first " + MAX_SHOWN : ""), false);
          drawTable(doc.head.vars || [], rows);
        } else {
          var triples = parseNTriples(payload);
          showDownloads(text, GRAPH_FORMATS);
          setStatus(plural(triples.length, "triple") + " in " + ms + " ms" + note +
            (triples.length > MAX_SHOWN ? " · showing the first " + MAX_SHOWN : ""), false);
          drawTable(["subject", "predicate", "object"], triples);
        }
      });
    }).catch(function (error) {
      if (error && error.name === "AbortError") return;
      setStatus("", false);
      showError(0, null, "could not reach the endpoint: " + (error && error.message));
    }).then(function () {
      if (running === controller) running = null;
    });
  }

  /* ---- wiring ---------------------------------------------------------------------------- */

  editor.classList.add("enhanced");
  textarea.addEventListener("input", function () { highlight(); updatePermalink(); });
  textarea.addEventListener("scroll", syncScroll);
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run();
  });
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(syncScroll).observe(textarea);
  }
  highlight();
  updatePermalink();
  if (config.autorun) run();
})();
