// Tresen online reception widget. A practice embeds it with
//   <script src="https://HOST/widget.js" data-practice="TENANT-ID" defer></script>
// and the script inserts <tresen-reception> after the tag. Everything lives in the
// element's shadow root; messages are shown with textContent only, never as HTML.
// Nothing is sent before the patient consents. The conversation's id and resume token
// are kept in sessionStorage (this tab only), so that a reload carries the chat on.
(() => {
  'use strict';
  const script = document.currentScript;
  if (!script) return;
  const base = new URL(script.src, location.href).origin;
  const lang = (navigator.language || 'de').toLowerCase().startsWith('en') ? 'en' : 'de';
  const MAX = 2000;

  const STRINGS = {
    de: {
      title: 'Online-Rezeption',
      loading: 'Die Online-Rezeption wird geladen …',
      start: 'Einwilligen und Chat starten',
      log: 'Gesprächsverlauf',
      you: 'Sie',
      practice: 'Praxis',
      staff: 'Praxisteam',
      input: 'Ihre Nachricht',
      hint: 'Enter sendet, Umschalt+Enter macht eine neue Zeile.',
      send: 'Senden',
      end: 'Gespräch beenden',
      typing: 'Die Rezeption schreibt …',
      choices: 'Antwortvorschläge',
      sending: 'wird gesendet …',
      received: 'angekommen',
      notSent: 'nicht gesendet',
      tooLong: 'Die Nachricht ist zu lang (höchstens 2.000 Zeichen). Bitte kürzen Sie sie.',
      offline: 'Die Verbindung ist unterbrochen. Ihre Nachrichten werden gesendet, sobald sie wieder steht.',
      summary: 'Das hat die Praxis von Ihnen erhalten',
      nothing: 'Es wurde kein Anliegen gespeichert.',
      ended: 'Das Gespräch ist beendet. Vielen Dank!',
      failed: 'Die Online-Rezeption ist gerade nicht erreichbar. Bitte rufen Sie die Praxis an.',
    },
    en: {
      title: 'Online reception',
      loading: 'Loading the online reception …',
      start: 'Consent and start the chat',
      log: 'Conversation',
      you: 'You',
      practice: 'Practice',
      staff: 'Practice team',
      input: 'Your message',
      hint: 'Enter sends, Shift+Enter starts a new line.',
      send: 'Send',
      end: 'End conversation',
      typing: 'The reception is typing …',
      choices: 'Suggested answers',
      sending: 'sending …',
      received: 'received',
      notSent: 'not sent',
      tooLong: 'The message is too long (2,000 characters at most). Please shorten it.',
      offline: 'The connection is lost. Your messages will be sent as soon as it is back.',
      summary: 'What the practice received from you',
      nothing: 'No request was stored.',
      ended: 'The conversation has ended. Thank you!',
      failed: 'The online reception cannot be reached right now. Please call the practice.',
    },
  };
  const T = STRINGS[lang];

  // Colours meet WCAG AA (4.5:1 for text) on their backgrounds. The practice's colour
  // (--accent) comes with the text colour on it (--on-accent, black or white) and, for
  // text and borders on white, itself or a dark grey where it is too light (--accent-text);
  // see applyColor.
  const CSS = `
:host { all: initial; display: block; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2733; }
* { box-sizing: border-box; }
.box { --accent: #0b5563; --on-accent: #fff; --accent-text: #0b5563; max-width: 28rem; margin: 1rem 0; border: 1px solid #8a97a5; border-radius: 8px; background: #fff; overflow: hidden; }
h2 { margin: 0; padding: .6rem .9rem; font-size: 1.05rem; background: var(--accent); color: var(--on-accent); }
h3 { font-size: 1rem; margin: .5rem 0; }
.pad { padding: .75rem .9rem; }
p { margin: .4rem 0; }
a { color: var(--accent-text); }
button, textarea { font: inherit; }
button { cursor: pointer; border-radius: 6px; border: 1px solid var(--accent-text); padding: .45rem .8rem; background: var(--accent); color: var(--on-accent); }
button.secondary { background: #fff; color: var(--accent-text); }
button:disabled { background: #e3e7eb; color: #4a5663; border-color: #8a97a5; cursor: not-allowed; }
:focus-visible { outline: 3px solid #b34700; outline-offset: 2px; }
ol { list-style: none; margin: 0; padding: .5rem .9rem; max-height: 22rem; overflow-y: auto; }
li { margin: .35rem 0; display: flex; flex-direction: column; }
.msg { white-space: pre-wrap; overflow-wrap: anywhere; padding: .4rem .65rem; border-radius: 8px; max-width: 90%; }
li.me { align-items: flex-end; }
li.me .msg { background: var(--accent); color: var(--on-accent); }
li.them .msg { background: #eef1f4; color: #1d2733; }
li.staff .msg { background: #fff; color: #1d2733; border: 2px solid var(--accent-text); }
li.staff .label { font-size: .8rem; font-weight: 600; color: #1d2733; }
.state { font-size: .8rem; color: #4a5663; }
li.failed .state { color: #a4000f; }
.who { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.typing { font-size: .9rem; color: #4a5663; padding: 0 .9rem; min-height: 1.3em; }
.choices { display: flex; flex-wrap: wrap; gap: .4rem; padding: 0 .9rem .5rem; }
.choices button { background: #fff; color: var(--accent-text); }
form { display: flex; gap: .5rem; align-items: flex-end; padding: .5rem .9rem; border-top: 1px solid #d5dbe1; }
form div { flex: 1; }
label { display: block; font-size: .9rem; }
textarea { width: 100%; resize: vertical; min-height: 2.6rem; border: 1px solid #5f6b78; border-radius: 6px; padding: .4rem; color: #1d2733; }
.hint { font-size: .8rem; color: #4a5663; margin: 0; }
.foot { display: flex; justify-content: flex-end; padding: 0 .9rem .6rem; }
.alert { color: #a4000f; }
.summary ul { padding-left: 1.2rem; }
.summary li { display: list-item; white-space: pre-line; }
[hidden] { display: none !important; }
@media (max-width: 32rem) { .box { max-width: none; border-radius: 0; border-left: 0; border-right: 0; } }
`;

  // WCAG 2.1 relative luminance and contrast ratio of "#rrggbb" colours.
  const luminance = (hex) => {
    const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const contrast = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };

  // el builds an element; children are nodes or strings (added as text, never as HTML).
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'hidden') e.hidden = !!v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
    return e;
  };

  const newID = () => {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  };

  class Reception extends HTMLElement {
    constructor() {
      super();
      this.root = this.attachShadow({ mode: 'open' });
      this.pending = []; // messages not yet answered: {id, text, li}, resent after a reconnect
      this.replied = new Set();
      this.ws = null;
      this.ready = false; // the connection carries the conversation (after started/resumed)
      this.conv = '';
      this.token = '';
      this.finished = false;
      this.mode = 'ws';
      this.failures = 0;
      this.everOpened = false;
      this.retry = 0;
      this.endWanted = false;
      this.staffSeen = new Set(); // ids of the team's replies shown
      this.resuming = false; // a resume was sent and not yet answered
      this.restoring = false; // the chat was carried over a reload and shows no history yet
    }

    // The conversation of this practice in this tab, kept across reloads.
    get storeKey() { return 'tresen-reception:' + this.practice; }

    stored() {
      try {
        const s = JSON.parse(sessionStorage.getItem(this.storeKey) || 'null');
        return s && typeof s.conv === 'string' && typeof s.token === 'string' ? s : null;
      } catch (e) {
        return null; // storage disabled: no resume after a reload
      }
    }

    store(conv, token) {
      try {
        if (conv) sessionStorage.setItem(this.storeKey, JSON.stringify({ conv, token }));
        else sessionStorage.removeItem(this.storeKey);
      } catch (e) { /* storage disabled */ }
    }

    connectedCallback() {
      if (this.box) return;
      this.practice = this.getAttribute('practice') || '';
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        this.root.adoptedStyleSheets = [sheet];
      } catch (e) {
        this.root.append(el('style', {}, CSS));
      }
      this.heading = el('h2', { id: 'title' }, T.title);
      this.box = el('section', { class: 'box', 'aria-labelledby': 'title' }, this.heading);
      this.intro = el('div', { class: 'pad' }, el('p', {}, T.loading));
      this.box.append(this.intro);
      this.root.append(this.box);
      this.loadConfig();
    }

    async loadConfig() {
      try {
        const r = await fetch(base + '/widget/config?practice=' + encodeURIComponent(this.practice), { credentials: 'omit' });
        if (!r.ok) throw new Error((await r.text()).trim() || T.failed);
        this.showIntro(await r.json());
      } catch (e) {
        this.intro.replaceChildren(el('p', { class: 'alert', role: 'alert' }, e instanceof TypeError ? T.failed : e.message));
      }
    }

    // applyColor sets the practice's colour, with black or white text on it, whichever
    // contrasts more (WCAG relative luminance).
    applyColor(color) {
      if (!/^#[0-9a-fA-F]{6}$/.test(color || '')) return;
      const on = contrast(color, '#000000') >= contrast(color, '#ffffff') ? '#000000' : '#ffffff';
      const text = contrast(color, '#ffffff') >= 4.5 ? color : '#1d2733';
      this.box.style.setProperty('--accent', color);
      this.box.style.setProperty('--on-accent', on);
      this.box.style.setProperty('--accent-text', text);
    }

    showIntro(cfg) {
      const texts = cfg.texts[lang] || cfg.texts.de;
      this.heading.textContent = T.title + ' – ' + cfg.practice;
      this.applyColor(cfg.color);
      // The link only to a web page, never a script: the server checks it too.
      let link = null;
      if (texts.privacy_url) {
        const u = new URL(texts.privacy_url, base);
        if (u.protocol === 'https:' || u.protocol === 'http:') {
          link = el('p', {}, el('a', { href: u.href, target: '_blank', rel: 'noopener', id: 'privacy' }, texts.privacy_link));
        }
      }
      this.startBtn = el('button', { type: 'button', id: 'consent' }, T.start);
      this.startBtn.addEventListener('click', () => this.consent());
      this.intro.replaceChildren(
        el('p', { id: 'notice' }, texts.notice),
        ...(link ? [link] : []),
        el('p', { id: 'consent-text' }, texts.consent),
        this.startBtn,
        (this.alert = el('p', { class: 'alert', role: 'alert' })),
      );
      this.startBtn.setAttribute('aria-describedby', 'notice consent-text');
      const s = this.stored();
      if (s) this.restore(s);
    }

    consent() {
      if (this.chat) return;
      this.openChat();
      this.input.focus();
      this.connect();
    }

    // restore carries on the conversation of this tab after a reload: the patient
    // consented already; the server sends what was written so far.
    restore(s) {
      this.conv = s.conv;
      this.token = s.token;
      this.restoring = true;
      this.openChat();
      this.connect();
    }

    // forget drops a conversation that cannot be carried on (ended, purged) and asks for
    // consent again.
    forget() {
      this.store('');
      this.conv = this.token = '';
      this.restoring = this.ready = false;
      if (this.ws) { const ws = this.ws; this.ws = null; ws.onclose = null; ws.close(); }
      this.chat.remove();
      this.chat = null;
      this.pending = [];
      this.intro.hidden = false;
    }

    openChat() {
      this.intro.hidden = true;
      this.log = el('ol', { role: 'log', 'aria-live': 'polite', 'aria-label': T.log, id: 'log', tabindex: '0' });
      this.typing = el('p', { class: 'typing', 'aria-live': 'polite', id: 'typing' });
      this.choices = el('div', { class: 'choices', role: 'group', 'aria-label': T.choices, id: 'choices' });
      this.input = el('textarea', { id: 'input', rows: '2', maxlength: String(MAX), 'aria-describedby': 'hint' });
      this.sendBtn = el('button', { type: 'submit', id: 'send' }, T.send);
      this.form = el('form', {}, el('div', {}, el('label', { for: 'input' }, T.input), this.input, el('p', { class: 'hint', id: 'hint' }, T.hint)), this.sendBtn);
      this.endBtn = el('button', { type: 'button', class: 'secondary', id: 'end' }, T.end);
      this.status = el('p', { class: 'alert pad', role: 'status', id: 'status' });
      this.chat = el('div', { id: 'chat' }, this.log, this.typing, this.choices, this.form, el('div', { class: 'foot' }, this.endBtn), this.status);
      this.box.append(this.chat);
      this.form.addEventListener('submit', (e) => {
        e.preventDefault();
        this.sendText(this.input.value);
      });
      this.input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.sendText(this.input.value);
        }
      });
      this.endBtn.addEventListener('click', () => this.end());
    }

    // Connection: a WebSocket, resumed after every loss; the long-poll fallback when a
    // WebSocket never opens (proxies without WebSockets).
    connect() {
      if (this.ws || this.finished || this.mode !== 'ws') return;
      let ws;
      try {
        ws = new WebSocket(base.replace(/^http/, 'ws') + '/widget/ws?practice=' + encodeURIComponent(this.practice));
      } catch (e) {
        this.fallback();
        return;
      }
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = this.everOpened = true;
        this.retry = 0;
        this.setStatus('');
        this.resuming = !!this.conv;
        ws.send(JSON.stringify(this.conv ? { type: 'resume', conversation: this.conv, token: this.token } : { type: 'consent' }));
      };
      ws.onmessage = (e) => {
        let m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        this.receive(m);
      };
      ws.onclose = () => {
        if (this.ws === ws) { this.ws = null; this.ready = false; }
        if (this.finished) return;
        if (!opened && !this.everOpened && ++this.failures >= 2) {
          this.fallback();
          return;
        }
        if (this.pending.length || this.endWanted || !this.conv) this.setStatus(T.offline);
        const delay = Math.min(10000, 500 * 2 ** this.retry++);
        setTimeout(() => this.connect(), delay);
      };
    }

    // flush sends what waits: every unanswered message in order, then the end.
    flush() {
      if (this.mode === 'poll') { this.pollFlush(); return; }
      if (!this.ready || !this.ws) return;
      for (const p of this.pending) this.ws.send(JSON.stringify({ type: 'say', id: p.id, text: p.text }));
      if (this.endWanted) this.ws.send(JSON.stringify({ type: 'end' }));
      this.updateTyping();
    }

    receive(m) {
      switch (m.type) {
        case 'started':
          this.conv = m.conversation;
          this.token = m.token;
          this.store(this.conv, this.token);
          this.ready = true;
          this.flush();
          if (this.mode === 'poll') this.pollStaff();
          break;
        case 'resumed':
          this.ready = true;
          this.resuming = false;
          if (m.done && !this.pending.length) this.endWanted = true;
          break;
        case 'history':
          // After a reload the chat shows the conversation so far; after a lost
          // connection it shows it already and only learns the team's replies.
          for (const h of m.history || []) {
            if (h.who === 'staff') {
              if (this.staffSeen.has(h.id)) continue;
              this.staffSeen.add(h.id);
              if (this.restoring) this.addStaff(h.text);
            } else if (this.restoring) {
              this.addMessage(h.who === 'patient' ? 'me' : 'them', h.text);
            }
          }
          if (this.restoring && !this.pending.length) this.showChoices(m.choices || []);
          this.restoring = false;
          this.flush();
          if (this.mode === 'poll') this.pollStaff();
          break;
        case 'staff':
          if (!m.id || this.staffSeen.has(m.id)) return; // shown already
          this.staffSeen.add(m.id);
          this.addStaff(m.text);
          break;
        case 'ack': {
          const p = this.pending.find((x) => x.id === m.id);
          if (p) p.state.textContent = T.received;
          break;
        }
        case 'reply':
          if (m.id) {
            if (this.replied.has(m.id)) return; // answered already, before the connection broke
            this.replied.add(m.id);
            const i = this.pending.findIndex((x) => x.id === m.id);
            if (i >= 0) {
              this.pending[i].state.textContent = T.received;
              this.pending.splice(i, 1);
            }
          }
          this.addMessage('them', m.text);
          this.showChoices(m.done ? [] : m.choices || []);
          if (m.done) this.closeInput();
          this.updateTyping();
          break;
        case 'summary':
          this.showSummary(m.items || []);
          break;
        case 'error':
          if (this.resuming && !m.id) {
            this.resuming = false;
            if (m.code === 'resume') {
              this.store('');
              if (this.restoring) { this.forget(); return; } // the reload carried nothing on
            } else if (this.ws) {
              this.ws.close(); // busy or failed: try again after a while
            }
          }
          if (m.id) {
            const i = this.pending.findIndex((x) => x.id === m.id);
            if (i >= 0) {
              const p = this.pending.splice(i, 1)[0];
              p.li.classList.add('failed');
              p.state.textContent = T.notSent + ': ' + m.message;
            }
          }
          this.setStatus(m.message);
          this.updateTyping();
          break;
      }
    }

    sendText(raw) {
      const text = raw.trim();
      if (!text || this.finished || this.endWanted) return;
      if (text.length > MAX) { this.setStatus(T.tooLong); return; }
      this.setStatus('');
      const id = newID();
      const li = this.addMessage('me', text);
      const state = el('span', { class: 'state' }, T.sending);
      li.append(state);
      this.pending.push({ id, text, li, state });
      this.input.value = '';
      this.showChoices([]);
      this.updateTyping();
      if (this.mode === 'poll') this.pollFlush();
      else if (this.ready && this.ws) this.ws.send(JSON.stringify({ type: 'say', id, text }));
      else if (!this.ws) this.connect();
    }

    end() {
      if (this.finished || this.endWanted) return;
      this.endWanted = true;
      this.closeInput();
      this.flush();
    }

    addMessage(who, text) {
      const li = el('li', { class: who }, el('span', { class: 'who' }, (who === 'me' ? T.you : T.practice) + ': '), el('span', { class: 'msg' }, text));
      this.log.append(li);
      this.log.scrollTop = this.log.scrollHeight;
      return li;
    }

    // addStaff shows a reply of the practice team, labelled as such, as text.
    addStaff(text) {
      const li = el('li', { class: 'staff' }, el('span', { class: 'label' }, T.staff + ':'), el('span', { class: 'msg' }, text));
      this.log.append(li);
      this.log.scrollTop = this.log.scrollHeight;
      return li;
    }

    showChoices(list) {
      const hadFocus = this.choices.contains(this.root.activeElement);
      this.choices.replaceChildren(...list.map((c) => {
        const b = el('button', { type: 'button' }, c);
        b.addEventListener('click', () => this.sendText(c));
        return b;
      }));
      if (hadFocus) (this.choices.querySelector('button') || this.input).focus();
    }

    updateTyping() {
      this.typing.textContent = this.pending.length && !this.finished ? T.typing : '';
    }

    closeInput() {
      this.input.disabled = this.sendBtn.disabled = this.endBtn.disabled = true;
      this.showChoices([]);
    }

    showSummary(items) {
      this.finished = true;
      this.store('');
      this.endWanted = false;
      this.pending = [];
      this.updateTyping();
      this.closeInput();
      this.setStatus('');
      const h = el('h3', { tabindex: '-1', id: 'summary-title' }, T.summary);
      const list = items.length ? el('ul', {}, ...items.map((s) => el('li', {}, s))) : el('p', {}, T.nothing);
      this.box.append(el('div', { class: 'summary pad', id: 'summary' }, h, list, el('p', {}, T.ended)));
      h.focus();
      if (this.ws) this.ws.close();
    }

    setStatus(s) {
      if (this.status) this.status.textContent = s;
    }

    // Long-poll fallback: one request at a time, each with the conversation and its token.
    fallback() {
      this.mode = 'poll';
      this.pollFlush();
    }

    async post(op, body) {
      const r = await fetch(base + '/widget/' + op, {
        method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'text/plain' },
        body: JSON.stringify(Object.assign({ practice: this.practice, conversation: this.conv, token: this.token }, body)),
      });
      if (!r.ok) throw new Error((await r.text()).trim());
      for (const m of (await r.json()).messages || []) this.receive(m);
    }

    async pollFlush() {
      if (this.polling || this.finished) return;
      this.polling = true;
      try {
        if (!this.conv) await this.post('consent', {});
        else if (!this.ready) {
          this.resuming = true;
          await this.post('resume', {});
          if (!this.conv) return; // could not be carried on
        }
        while (this.conv && this.pending.length) {
          const p = this.pending[0];
          await this.post('say', { id: p.id, text: p.text });
          if (this.pending[0] === p) this.pending.shift(); // answered with an error
        }
        if (this.conv && this.endWanted) await this.post('end', {});
        this.setStatus('');
      } catch (e) {
        this.setStatus(T.offline);
        setTimeout(() => this.pollFlush(), 3000);
      } finally {
        this.polling = false;
      }
    }

    // pollStaff waits for the team's replies, one request at a time, while the chat is open.
    async pollStaff() {
      if (this.staffPolling) return;
      this.staffPolling = true;
      const conv = this.conv;
      while (!this.finished && this.conv === conv && this.mode === 'poll') {
        const start = Date.now();
        try {
          await this.post('poll', { staff: this.staffSeen.size });
        } catch (e) { /* offline: try again below */ }
        // A poll ends after about 25 s, sooner with a reply; never more than one every 3 s.
        const wait = 3000 - (Date.now() - start);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      this.staffPolling = false;
    }
  }

  if (!customElements.get('tresen-reception')) customElements.define('tresen-reception', Reception);
  const widget = document.createElement('tresen-reception');
  widget.setAttribute('practice', script.dataset.practice || '');
  if (script.hasAttribute('data-test-hooks')) {
    // For browser tests on the demo page only: cut the connection as a network would.
    widget.testDrop = () => { if (widget.ws) widget.ws.close(); };
  }
  // The tag may stand in the head, where nothing is shown: the widget goes into the body.
  const place = () => {
    if (document.body && document.body.contains(script)) script.after(widget);
    else document.body.appendChild(widget);
  };
  if (document.body) place();
  else document.addEventListener('DOMContentLoaded', place, { once: true });
})();
