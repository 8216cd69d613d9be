/* greenpark inbox: the caller's tasks in the reporting and verification cycle (/api/inbox), their
   messages (mark read), and for park staff and admins the notification settings (SMTP, robots). */
(function () {
  'use strict';
  const GP = window.GP;
  const _ = GP._;
  const N_ = (s) => s;
  const html = GP.html;
  const T = {
    t0: N_('Nothing to do now.'),
    t1: N_('e-mail'),
    t2: N_('robot'),
    t3: N_('No messages.'),
    t4: N_('{n} unread'),
    t5: N_('WeCom group robot'),
    t6: N_('DingTalk group robot'),
    t7: N_('set'),
    t8: N_('Remove'),
    t9: N_('No robot yet.'),
    t10: N_('Saved.'),
    t11: N_('sent'),
    t12: N_('empty: keep the stored one'),
  };
  const KIND = { due: N_('to do'), returned: N_('returned'), assigned: N_('to do'), overdue: N_('overdue'), reminder: N_('reminder'), notice: N_('notice') };
  const CHANNEL = { sent: N_('sent'), off: N_('not set up') };
  const kindBadge = (k, overdue) => html`<span class="status${overdue ? ' critical' : ''}">${_(KIND[k] || k)}</span>`;
  const channel = (name, st) => (st ? html`<span class="note">${name}: ${CHANNEL[st] ? _(CHANNEL[st]) : st}</span> ` : '');

  // a task's or a message's title from its message id in the reader's language, each value in it
  // (an enterprise's name, a year, a date) shown as data, as it is
  // the values that are greenpark's own codes, said in the reader's language
  const CODED = {
    conclusion: { pass: N_('passed'), fail: N_('not passed') },
    decision: { upheld: N_('upheld'), revised: N_('revised') },
  };
  function title(x) {
    if (!x.msgid) return x.title;
    const parts = _(x.msgid).split(/\{(\w+)\}/);
    const params = x.params || {};
    const value = (p) => (CODED[p] && CODED[p][params[p]] ? _(CODED[p][params[p]]) : html`<span translate="no">${String(params[p])}</span>`);
    return html`${parts.map((p, i) => (i % 2 === 0 ? p : Object.prototype.hasOwnProperty.call(params, p) ? value(p) : `{${p}}`))}`;
  }

  async function send(url, method, body) {
    const r = await GP.fetch(url, { method, headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(typeof data.detail === 'string' ? data.detail : `${r.status}`);
    return data;
  }

  async function loadInbox() {
    const tasks = document.getElementById('inbox-tasks').tBodies[0];
    const msgs = document.getElementById('inbox-messages').tBodies[0];
    let d;
    try {
      d = await GP.api('/api/inbox');
    } catch (e) {
      GP.setHTML(tasks, html`<tr class="empty"><td colspan="3" class="warn">${e.message}</td></tr>`);
      return;
    }
    GP.setHTML(tasks, d.tasks.length
      ? d.tasks.map((t) => html`<tr class="${t.overdue ? 'overdue' : ''}"><td><a href="${t.link}">${title(t)}</a></td><td>${kindBadge(t.overdue ? 'overdue' : t.kind, t.overdue)}</td><td class="${t.overdue ? 'bad' : ''}">${t.due || '–'}</td></tr>`)
      : html`<tr class="empty"><td colspan="3" class="note">${_(T.t0)}</td></tr>`);
    GP.setHTML(msgs, d.messages.length
      ? d.messages.map((x) => html`<tr class="${x.read ? '' : 'unread'}"><td>${GP.when(x.created_utc)}</td><td>${x.read ? '' : html`<b>•</b> `}${x.link ? html`<a href="${x.link}">${title(x)}</a>` : title(x)}</td><td>${kindBadge(x.kind, x.kind === 'overdue')}</td><td>${channel(_(T.t1), x.email_status)}${channel(_(T.t2), x.robot_status)}</td></tr>`)
      : html`<tr class="empty"><td colspan="4" class="note">${_(T.t3)}</td></tr>`);
    document.getElementById('inbox-unread').textContent = d.unread ? _(T.t4, { n: d.unread }) : '';
  }

  let robots = [];
  function drawRobots() {
    const body = document.getElementById('robots-table').tBodies[0];
    GP.setHTML(body, robots.length
      ? robots.map((r, i) => html`<tr><td>${r.kind === 'wecom' ? _(T.t5) : _(T.t6)}</td><td><span translate="no">${r.url}</span></td><td>${r.has_secret ? _(T.t7) : '–'}</td><td><button type="button" class="danger" data-drop="${i}">${_(T.t8)}</button></td></tr>`)
      : html`<tr class="empty"><td colspan="4" class="note">${_(T.t9)}</td></tr>`);
    body.querySelectorAll('button[data-drop]').forEach((b) => b.addEventListener('click', () => saveRobots(robots.filter((_r, i) => String(i) !== b.dataset.drop))));
  }
  async function saveRobots(list, note = document.getElementById('robots-note')) {
    try {
      const d = await send('/api/mrv/notify-settings', 'PUT', { robots: list.map((r) => ({ kind: r.kind, url: r.url, secret: r.secret === undefined ? null : r.secret })) });
      robots = d.robots;
      note.textContent = _(T.t10);
      drawRobots();
    } catch (e) { note.textContent = e.message; }
  }
  const results = (d) => d.results.map((r) => `${r.channel} → ${r.to}: ${r.ok ? _(T.t11) : r.result}`).join('; ');

  async function loadSettings() {
    const card = document.getElementById('notify-card');
    if (!card) return;
    const d = await GP.api('/api/mrv/notify-settings');
    robots = d.robots;
    drawRobots();
    const smtp = document.getElementById('smtp-form');
    if (smtp && d.smtp) {
      for (const k of ['host', 'port', 'security', 'username', 'from_addr']) smtp.elements[k].value = d.smtp[k];
      smtp.elements.password.placeholder = d.smtp.has_password ? _(T.t12) : '';
      const note = document.getElementById('smtp-note');
      smtp.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const f = smtp.elements;
        try {
          await send('/api/mrv/notify-settings', 'PUT', { smtp: { host: f.host.value, port: Number(f.port.value), security: f.security.value, username: f.username.value, password: f.password.value ? f.password.value : null, from_addr: f.from_addr.value } });
          f.password.value = '';
          note.textContent = _(T.t10);
        } catch (e) { note.textContent = e.message; }
      });
      document.getElementById('smtp-test').addEventListener('click', async () => {
        try { note.textContent = results(await send('/api/mrv/notify-settings/test', 'POST', { channel: 'email' })); } catch (e) { note.textContent = e.message; }
      });
    }
    const form = document.getElementById('robot-form');
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = form.elements;
      saveRobots([...robots, { kind: f.kind.value, url: f.url.value, secret: f.secret.value }]).then(() => form.reset());
    });
    document.getElementById('robots-test').addEventListener('click', async () => {
      const note = document.getElementById('robots-note');
      try { note.textContent = results(await send('/api/mrv/notify-settings/test', 'POST', { channel: 'robots' })); } catch (e) { note.textContent = e.message; }
    });
  }

  GP.pages.inbox = async () => {
    document.getElementById('inbox-read-all').addEventListener('click', async () => {
      await send('/api/inbox/read', 'POST', { ids: null });
      await loadInbox();
    });
    await loadInbox();
    try { await loadSettings(); } catch (e) { const n = document.getElementById('robots-note'); if (n) n.textContent = e.message; }
    document.body.dataset.ready = '1';
  };
})();
