/* Offline implementation of the crowd HTML elements the Ground Truth built-in task types use
 * (AWS serves the original from https://assets.crowd.aws/crowd-html-elements.js; the local
 * worker portal serves this file instead). Elements are custom elements in the light DOM:
 *   crowd-form, crowd-button, crowd-classifier, crowd-classifier-multi-select,
 *   crowd-image-classifier, crowd-image-classifier-multi-select, crowd-bounding-box,
 *   crowd-entity-annotation, crowd-instructions, short-instructions, full-instructions.
 * Each answering element has a `name` and a `crowdValue` (its part of answerContent) and a
 * `crowdError()` (a message when it is not answered). crowd-form posts
 * {"<name>": <crowdValue>, ...} to the portal, which stores it as the worker response.
 */
(function () {
  "use strict";
  const css = `
  crowd-form { display:block; }
  .crowd-header { font-weight:600; font-size:1.1em; margin:.5em 0; }
  .crowd-target { padding:.8em; border:1px solid #ccd; border-radius:6px; background:#fafbff; margin:.5em 0; white-space:pre-wrap; }
  .crowd-choices { display:flex; flex-wrap:wrap; gap:.5em; margin:.5em 0; }
  .crowd-choice { border:1px solid #889; border-radius:4px; padding:.4em .9em; background:#fff; cursor:pointer; font:inherit; }
  .crowd-choice[aria-pressed="true"] { background:#1f6feb; color:#fff; border-color:#1f6feb; }
  .crowd-error { color:#b00020; margin:.3em 0; min-height:1.2em; }
  crowd-button button, .crowd-submit { background:#ff9900; border:0; border-radius:4px; padding:.5em 1.2em; font-weight:600; cursor:pointer; }
  .crowd-instructions { border-left:3px solid #1f6feb; padding:.2em .8em; margin:.5em 0; color:#333; }
  full-instructions, short-instructions { display:block; }
  .crowd-bb-stage { position:relative; display:inline-block; user-select:none; cursor:crosshair; border:1px solid #889; }
  .crowd-bb-stage img { display:block; width:var(--crowd-bb-width, 384px); image-rendering:pixelated; pointer-events:none; }
  .crowd-box { position:absolute; box-sizing:border-box; border:2px solid #00c853; background:rgba(0,200,83,.12); pointer-events:none; }
  .crowd-box span { position:absolute; top:-1.3em; left:0; font-size:.75em; background:#00c853; color:#fff; padding:0 .3em; }
  .crowd-ner-text { line-height:1.9; padding:.8em; border:1px solid #ccd; border-radius:6px; white-space:pre-wrap; }
  .crowd-entity { background:#ffe08a; border-radius:3px; }
  .crowd-entity::after { content:" [" attr(data-label) "]"; font-size:.75em; color:#7a5a00; }
  `;
  const style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  function parseJSON(text, fallback) {
    if (!text) return fallback;
    try { return JSON.parse(text); } catch (e) { return fallback; }
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function labelName(x) { return typeof x === "string" ? x : (x && x.label) || String(x); }
  // move the instruction children out of the element before it renders itself
  function takeInstructions(host) {
    const box = el("div", {"class": "crowd-instructions"});
    for (const tag of ["short-instructions", "full-instructions"]) {
      host.querySelectorAll(":scope > " + tag).forEach(n => box.appendChild(n));
    }
    return box.childNodes.length ? box : null;
  }

  class CrowdElement extends HTMLElement {
    connectedCallback() {
      if (this._rendered) return;
      this._rendered = true;
      this.render();
    }
    get crowdValue() { return null; }
    crowdError() { return null; }
    showError(msg) { if (this._error) this._error.textContent = msg || ""; }
  }

  // -- classification --------------------------------------------------------------------
  class Classifier extends CrowdElement {
    get multi() { return false; }
    render() {
      const categories = parseJSON(this.getAttribute("categories"), []).map(labelName);
      const target = this.querySelector("classification-target");
      const instructions = takeInstructions(this);
      const header = this.getAttribute("header");
      const targetBox = el("div", {"class": "crowd-target", "data-crowd": "target"});
      if (target) targetBox.innerHTML = target.innerHTML;
      this.renderMedia && this.renderMedia(targetBox);
      this.innerHTML = "";
      if (header) this.appendChild(el("div", {"class": "crowd-header"}, header));
      if (instructions) this.appendChild(instructions);
      this.appendChild(targetBox);
      const choices = el("div", {"class": "crowd-choices", "role": this.multi ? "group" : "radiogroup"});
      this._selected = new Set();
      for (const c of categories) {
        const b = el("button", {"type": "button", "class": "crowd-choice", "aria-pressed": "false",
                                "data-label": c}, c);
        b.addEventListener("click", () => this.choose(c));
        choices.appendChild(b);
      }
      this._choices = choices;
      this.appendChild(choices);
      this._error = el("div", {"class": "crowd-error", "role": "alert"});
      this.appendChild(this._error);
    }
    choose(c) {
      if (this.multi) { this._selected.has(c) ? this._selected.delete(c) : this._selected.add(c); }
      else { this._selected = new Set([c]); }
      this._choices.querySelectorAll(".crowd-choice").forEach(
        b => b.setAttribute("aria-pressed", this._selected.has(b.dataset.label) ? "true" : "false"));
      this.showError("");
    }
    get crowdValue() {
      const chosen = [...this._selected];
      return this.multi ? {"labels": chosen} : {"label": chosen[0]};
    }
    crowdError() { return this._selected.size ? null : "Choose a category before you submit."; }
  }
  class MultiClassifier extends Classifier { get multi() { return true; } }
  class ImageClassifier extends Classifier {
    renderMedia(box) {
      box.innerHTML = "";
      const img = el("img", {"src": this.getAttribute("src") || "", "alt": "image to classify",
                             "style": "max-width:384px;width:256px;image-rendering:pixelated"});
      box.appendChild(img);
    }
  }
  class ImageMultiClassifier extends ImageClassifier { get multi() { return true; } }

  // -- bounding boxes --------------------------------------------------------------------
  class BoundingBox extends CrowdElement {
    render() {
      const labels = parseJSON(this.getAttribute("labels"), []).map(labelName);
      const instructions = takeInstructions(this);
      this.innerHTML = "";
      const header = this.getAttribute("header");
      if (header) this.appendChild(el("div", {"class": "crowd-header"}, header));
      if (instructions) this.appendChild(instructions);
      const choices = el("div", {"class": "crowd-choices", "role": "radiogroup"});
      this._label = labels[0];
      for (const c of labels) {
        const b = el("button", {"type": "button", "class": "crowd-choice", "data-label": c,
                                "aria-pressed": c === this._label ? "true" : "false"}, c);
        b.addEventListener("click", () => {
          this._label = c;
          choices.querySelectorAll(".crowd-choice").forEach(x => x.setAttribute("aria-pressed", x.dataset.label === c ? "true" : "false"));
        });
        choices.appendChild(b);
      }
      const undo = el("button", {"type": "button", "class": "crowd-choice", "data-action": "undo"}, "Undo");
      undo.addEventListener("click", () => { this._boxes.pop(); this.draw(); });
      choices.appendChild(undo);
      this.appendChild(choices);
      const stage = el("div", {"class": "crowd-bb-stage", "data-crowd": "stage"});
      const img = el("img", {"src": this.getAttribute("src") || "", "alt": "image to annotate", "draggable": "false"});
      stage.appendChild(img);
      this.appendChild(stage);
      this._error = el("div", {"class": "crowd-error", "role": "alert"});
      this.appendChild(this._error);
      this._img = img; this._stage = stage; this._boxes = [];
      let start = null, live = null;
      const point = ev => {
        const r = img.getBoundingClientRect();
        const sx = img.naturalWidth / r.width, sy = img.naturalHeight / r.height;
        return {x: Math.max(0, Math.min(r.width, ev.clientX - r.left)) * sx,
                y: Math.max(0, Math.min(r.height, ev.clientY - r.top)) * sy};
      };
      stage.addEventListener("mousedown", ev => { ev.preventDefault(); start = point(ev); live = null; });
      window.addEventListener("mousemove", ev => {
        if (!start) return;
        const p = point(ev);
        live = {label: this._label, left: Math.min(start.x, p.x), top: Math.min(start.y, p.y),
                width: Math.abs(p.x - start.x), height: Math.abs(p.y - start.y)};
        this.draw(live);
      });
      window.addEventListener("mouseup", () => {
        if (start && live && live.width >= 2 && live.height >= 2) {
          this._boxes.push({label: live.label, left: Math.round(live.left), top: Math.round(live.top),
                            width: Math.round(live.width), height: Math.round(live.height)});
          this.showError("");
        }
        start = null; live = null; this.draw();
      });
    }
    draw(live) {
      this._stage.querySelectorAll(".crowd-box").forEach(n => n.remove());
      const r = this._img.getBoundingClientRect();
      const kx = r.width / (this._img.naturalWidth || 1), ky = r.height / (this._img.naturalHeight || 1);
      for (const b of live ? [...this._boxes, live] : this._boxes) {
        const d = el("div", {"class": "crowd-box", "data-label": b.label});
        d.style.left = (b.left * kx) + "px"; d.style.top = (b.top * ky) + "px";
        d.style.width = (b.width * kx) + "px"; d.style.height = (b.height * ky) + "px";
        d.appendChild(el("span", {}, b.label));
        this._stage.appendChild(d);
      }
    }
    get crowdValue() {
      return {"boundingBoxes": this._boxes.map(b => ({...b})),
              "inputImageProperties": {"height": this._img.naturalHeight, "width": this._img.naturalWidth}};
    }
    crowdError() { return this._boxes.length ? null : "Draw at least one box before you submit."; }
  }

  // -- entities --------------------------------------------------------------------------
  class EntityAnnotation extends CrowdElement {
    render() {
      const labels = parseJSON(this.getAttribute("labels"), []);
      this._text = this.getAttribute("text") || "";
      const instructions = takeInstructions(this);
      this.innerHTML = "";
      const header = this.getAttribute("header");
      if (header) this.appendChild(el("div", {"class": "crowd-header"}, header));
      if (instructions) this.appendChild(instructions);
      const choices = el("div", {"class": "crowd-choices"});
      for (const l of labels) {
        const name = labelName(l);
        const b = el("button", {"type": "button", "class": "crowd-choice", "data-label": name}, name);
        b.addEventListener("mousedown", ev => ev.preventDefault());   // keep the text selection
        b.addEventListener("click", () => this.tag(name));
        choices.appendChild(b);
      }
      this.appendChild(choices);
      this._box = el("div", {"class": "crowd-ner-text", "data-crowd": "text"});
      this.appendChild(this._box);
      this._error = el("div", {"class": "crowd-error", "role": "alert"});
      this.appendChild(this._error);
      this._entities = [];
      this.draw();
    }
    offset(node, off) {
      const range = document.createRange();
      range.setStart(this._box, 0);
      range.setEnd(node, off);
      return range.toString().length;
    }
    tag(label) {
      const sel = window.getSelection();
      if (!sel.rangeCount || sel.isCollapsed) { this.showError("Select some text first."); return; }
      const r = sel.getRangeAt(0);
      if (!this._box.contains(r.startContainer) || !this._box.contains(r.endContainer)) return;
      let start = this.offset(r.startContainer, r.startOffset), end = this.offset(r.endContainer, r.endOffset);
      while (start < end && /\s/.test(this._text[start])) start++;
      while (end > start && /\s/.test(this._text[end - 1])) end--;
      if (end <= start) return;
      this._entities = this._entities.filter(e => e.endOffset <= start || e.startOffset >= end);
      this._entities.push({label: label, startOffset: start, endOffset: end});
      this._entities.sort((a, b) => a.startOffset - b.startOffset);
      sel.removeAllRanges();
      this.showError("");
      this.draw();
    }
    draw() {
      this._box.innerHTML = "";
      let pos = 0;
      for (const e of this._entities) {
        this._box.appendChild(document.createTextNode(this._text.slice(pos, e.startOffset)));
        this._box.appendChild(el("span", {"class": "crowd-entity", "data-label": e.label}, this._text.slice(e.startOffset, e.endOffset)));
        pos = e.endOffset;
      }
      this._box.appendChild(document.createTextNode(this._text.slice(pos)));
    }
    get crowdValue() { return {"entities": this._entities.map(e => ({...e}))}; }
    crowdError() { return null; }
  }

  // -- instructions, buttons, form -------------------------------------------------------
  class Instructions extends CrowdElement {
    render() {
      const link = this.getAttribute("link-text") || "Instructions";
      const body = el("div", {"class": "crowd-instructions"});
      while (this.firstChild) body.appendChild(this.firstChild);
      const details = el("details");
      details.appendChild(el("summary", {}, link));
      details.appendChild(body);
      this.appendChild(details);
    }
  }
  class CrowdButton extends CrowdElement {
    render() {
      const b = el("button", {"type": "button"});
      while (this.firstChild) b.appendChild(this.firstChild);
      if (this.getAttribute("form-action") === "submit") {
        b.addEventListener("click", () => { const f = this.closest("crowd-form"); if (f) f.submit(); });
      }
      this.appendChild(b);
    }
  }
  class CrowdForm extends CrowdElement {
    render() {
      const form = el("form", {"novalidate": ""});
      while (this.firstChild) form.appendChild(this.firstChild);
      this.appendChild(form);
      this._status = el("div", {"class": "crowd-error", "role": "status", "data-crowd": "status"});
      if (!this.querySelector("crowd-button[form-action='submit']")) {
        const submit = el("button", {"type": "submit", "class": "crowd-submit"}, "Submit");
        form.appendChild(submit);
      }
      form.appendChild(this._status);
      form.addEventListener("submit", ev => { ev.preventDefault(); this.submit(); });
      this._form = form;
    }
    answers() {
      const out = {};
      for (const e of this.querySelectorAll("[name]")) {
        if (e instanceof CrowdElement) { out[e.getAttribute("name")] = e.crowdValue; continue; }
        if (!("value" in e) || e.closest("crowd-classifier, crowd-bounding-box")) continue;
        const n = e.getAttribute("name");
        if (e.type === "checkbox" || e.type === "radio") { out[n] = Object.assign(out[n] || {}, {[e.value]: e.checked}); }
        else out[n] = e.value;
      }
      return out;
    }
    async submit() {
      let ok = true;
      for (const e of this.querySelectorAll("[name]")) {
        if (e instanceof CrowdElement) {
          const msg = e.crowdError();
          e.showError(msg || "");
          if (msg) ok = false;
        }
      }
      if (!ok) { this._status.textContent = "Answer every question before you submit."; return; }
      const portal = window.__CROWD_PORTAL__;
      if (!portal) { this._status.textContent = "Not in a worker portal: nothing to submit to."; return; }
      this._status.textContent = "Submitting...";
      const res = await fetch(portal.submitUrl, {method: "POST", headers: {"Content-Type": "application/json"},
                                                 body: JSON.stringify(this.answers())});
      const body = await res.json().catch(() => ({}));
      if (!res.ok) { this._status.textContent = body.message || ("Submission failed: " + res.status); return; }
      this.dispatchEvent(new CustomEvent("crowd-submitted", {bubbles: true, detail: body}));
      document.body.dataset.submitted = "true";
      if (body.next) window.location.assign(body.next);
    }
  }

  const defs = {
    "crowd-form": CrowdForm, "crowd-button": CrowdButton, "crowd-classifier": Classifier,
    "crowd-classifier-multi-select": MultiClassifier, "crowd-image-classifier": ImageClassifier,
    "crowd-image-classifier-multi-select": ImageMultiClassifier, "crowd-bounding-box": BoundingBox,
    "crowd-entity-annotation": EntityAnnotation, "crowd-instructions": Instructions,
  };
  for (const [name, cls] of Object.entries(defs)) {
    if (!customElements.get(name)) customElements.define(name, cls);
  }
  document.documentElement.dataset.crowdReady = "true";
})();
