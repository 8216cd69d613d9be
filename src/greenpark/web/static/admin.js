/* greenpark administration: users and roles, API tokens, sessions, logins and the audit trail. */
(function () {
  'use strict';
  const GP = window.GP;
  const L = (a, b) => GP.L(a, b);
  const h = GP.html;
  const ROLES = { admin: ['管理员', 'Administrator'], park_staff: ['园区工作人员', 'Park staff'], verifier: ['第三方核查机构', 'Verifier'],
    enterprise: ['企业用户', 'Enterprise user'], public: ['公众', 'Public'] };
  const STATES = { active: ['有效', 'active'], revoked: ['已撤销', 'revoked'], expired: ['已过期', 'expired'] };
  const ACTIONS = { create_user: ['新建用户', 'user created'], activate: ['启用', 'activated'], deactivate: ['停用', 'deactivated'],
    reset_password: ['重置密码', 'password reset'], set_role: ['修改角色', 'role changed'], create_token: ['新建令牌', 'token created'],
    revoke_token: ['撤销令牌', 'token revoked'], end_session: ['结束会话', 'session ended'], change: ['修改', 'changed'], rekey: ['更换设备密码', 'device re-keyed'] };
  const ENTITIES = { app_user: ['用户', 'user'], api_token: ['令牌', 'token'], user_session: ['会话', 'session'], setting: ['预警设置', 'setting'],
    channel: ['监测因子', 'channel'], source_point: ['监测设备', 'device'] };
  const role = (r) => L(...(ROLES[r] || [r, r]));
  const local = (iso) => (iso ? new Date(iso).toLocaleString(GP.zh() ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour12: false }) : '–');
  const show = (v) => {
    if (v === null || v === undefined) return '';
    if (typeof v !== 'object') return String(v);
    return Object.entries(v).filter(([, x]) => x !== null && x !== '').map(([k, x]) => (k === 'role' ? role(x) : k === 'user' ? x : `${x}`)).join(' · ');
  };

  async function send(url, method, body) {
    const r = await fetch(url, { method, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.dataset.csrf }, body: body === undefined ? undefined : JSON.stringify(body) });
    const d = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(typeof d.detail === 'string' ? d.detail : Array.isArray(d.detail) ? d.detail.map((e) => e.msg).join('; ') : String(r.status));
    return d;
  }
  // what cannot be undone asks once more on the button itself
  function confirming(button, question, action) {
    button.onclick = async () => {
      if (button.dataset.armed !== '1') {
        button.dataset.armed = '1'; button.dataset.label = button.textContent; button.textContent = question; button.classList.add('danger');
        setTimeout(() => { if (button.isConnected && button.dataset.armed === '1') { button.dataset.armed = ''; button.textContent = button.dataset.label; button.classList.remove('danger'); } }, 5000);
        return;
      }
      button.disabled = true;
      try { await action(); } catch (e) { button.textContent = e.message; }
    };
  }
  function result(id, ok, content) {
    GP.setHTML(document.getElementById(id), ok ? h`<p class="good">${content}</p>` : h`<p class="bad">${content}</p>`);
  }

  async function users() {
    const [rows, ents] = await Promise.all([GP.api('/api/admin/users'), GP.api('/api/enterprises')]);
    const me = document.body.dataset.user;
    GP.setHTML(document.querySelector('#adm-users tbody'), rows.map((u) => h`<tr data-user="${u.username}">
      <td>${u.username}</td><td>${u.display_name}</td>
      <td><select class="role" aria-label="${L('角色', 'role')}">${Object.keys(ROLES).map((r) => h`<option value="${r}" ${r === u.role ? h`selected` : ''}>${role(r)}</option>`)}</select>
        <select class="ent" aria-label="${L('企业', 'enterprise')}" ${u.role === 'enterprise' ? '' : h`hidden`}>${ents.map((e) => h`<option value="${e.code}" ${e.name === u.enterprise ? h`selected` : ''}>${e.name}</option>`)}</select>
        <button class="save-role" hidden>${L('保存角色', 'Save role')}</button></td>
      <td>${u.enterprise || '–'}</td>
      <td class="${u.active ? 'good' : 'bad'}">${u.active ? L('启用', 'active') : L('已停用', 'deactivated')}</td><td>${local(u.last_login_utc)}</td>
      <td>${u.username === me ? '' : h`<button class="toggle">${u.active ? L('停用', 'Deactivate') : L('启用', 'Activate')}</button> `}<button class="reset">${L('重置密码', 'Reset password')}</button></td></tr>`));
    document.querySelectorAll('#adm-users tbody tr').forEach((tr) => {
      const name = tr.dataset.user; const u = rows.find((x) => x.username === name);
      const roleSel = tr.querySelector('select.role'), entSel = tr.querySelector('select.ent'), save = tr.querySelector('button.save-role');
      const changed = () => { entSel.hidden = roleSel.value !== 'enterprise'; save.hidden = roleSel.value === u.role && (roleSel.value !== 'enterprise' || entSel.selectedOptions[0]?.textContent === u.enterprise); };
      roleSel.onchange = entSel.onchange = changed;
      confirming(save, L('确认修改角色？', 'Change the role?'), async () => {
        await send(`/api/admin/users/${encodeURIComponent(name)}/role`, 'PUT', { role: roleSel.value, enterprise: roleSel.value === 'enterprise' ? entSel.value : '' });
        result('adm-user-result', true, L(`已修改 ${name} 的角色，其会话已结束`, `Role of ${name} changed; their sessions ended`)); await load();
      });
      const toggle = tr.querySelector('button.toggle');
      if (toggle) confirming(toggle, u.active ? L('确认停用？', 'Deactivate?') : L('确认启用？', 'Activate?'), async () => {
        await send(`/api/admin/users/${encodeURIComponent(name)}/active`, 'POST', { active: !u.active });
        result('adm-user-result', true, u.active ? L(`已停用 ${name}：会话已结束，令牌失效`, `${name} deactivated: sessions ended, tokens refused`) : L(`已启用 ${name}`, `${name} activated`));
        await load();
      });
      confirming(tr.querySelector('button.reset'), L('确认重置？', 'Reset it?'), async () => {
        const d = await send(`/api/admin/users/${encodeURIComponent(name)}/password`, 'POST');
        GP.setHTML(document.getElementById('adm-user-result'), h`<p class="good">${L(`${name} 的新密码（只显示这一次）：`, `New password of ${name} (shown once): `)}<code class="secret">${d.password}</code></p>`);
        await load();
      });
    });
    GP.setHTML(document.getElementById('adm-role'), Object.keys(ROLES).map((r) => h`<option value="${r}">${role(r)}</option>`));
    GP.setHTML(document.getElementById('adm-enterprise'), [h`<option value="">–</option>`, ents.map((e) => h`<option value="${e.code}">${e.code} ${e.name}</option>`)]);
    GP.setHTML(document.getElementById('adm-token-user'), rows.filter((u) => u.active).map((u) => h`<option value="${u.username}">${u.username} · ${role(u.role)}</option>`));
  }

  async function tokens() {
    const rows = await GP.api('/api/admin/tokens');
    GP.setHTML(document.querySelector('#adm-tokens tbody'), rows.length ? rows.map((t) => h`<tr data-id="${t.id}" class="${t.state === 'active' ? '' : 'muted'}"><td>${t.id}</td><td>${t.username}</td><td>${t.name}</td>
      <td>${L(...(STATES[t.state] || [t.state, t.state]))}</td><td>${local(t.created_utc)}</td><td>${local(t.expires_utc)}</td><td>${local(t.last_used_utc)}</td>
      <td>${t.state === 'active' ? h`<button class="revoke">${L('撤销', 'Revoke')}</button>` : t.revoked_by ? h`<span class="note">${t.revoked_by}</span>` : ''}</td></tr>`)
      : h`<tr><td colspan="8" class="note">${L('尚无令牌', 'No tokens')}</td></tr>`);
    document.querySelectorAll('#adm-tokens button.revoke').forEach((b) => confirming(b, L('确认撤销？', 'Revoke it?'), async () => {
      await send(`/api/admin/tokens/${b.closest('tr').dataset.id}`, 'DELETE'); await tokens();
    }));
  }

  async function sessions() {
    const rows = await GP.api('/api/admin/sessions');
    GP.setHTML(document.querySelector('#adm-sessions tbody'), rows.map((s) => h`<tr data-id="${s.id}"><td>${s.username}</td><td>${s.address}</td><td>${local(s.created_utc)}</td><td>${local(s.last_seen_utc)}</td>
      <td><button class="end">${L('结束', 'End')}</button></td></tr>`));
    document.querySelectorAll('#adm-sessions button.end').forEach((b) => confirming(b, L('确认结束？', 'End it?'), async () => {
      await send(`/api/admin/sessions/${b.closest('tr').dataset.id}`, 'DELETE'); await sessions();
    }));
    const logins = await GP.api('/api/admin/logins?limit=50');
    GP.setHTML(document.querySelector('#adm-logins tbody'), logins.map((x) => h`<tr><td>${local(x.at_utc)}</td><td>${x.username}</td><td>${x.address}</td><td class="${x.ok ? 'good' : 'bad'}">${x.ok ? L('成功', 'ok') : L('失败', 'failed')}</td></tr>`));
    const audit = await GP.api('/api/admin/audit?limit=200');
    GP.setHTML(document.querySelector('#adm-audit tbody'), audit.map((e) => h`<tr><td>${local(e.at_utc)}</td><td>${e.actor}</td><td>${L(...(ACTIONS[e.action] || [e.action, e.action]))}</td>
      <td>${L(...(ENTITIES[e.entity] || [e.entity, e.entity]))} ${e.key}</td><td>${e.field}</td><td>${show(e.old)}</td><td>${show(e.new)}</td></tr>`));
  }

  async function load() { await Promise.all([users(), tokens(), sessions()]); }

  GP.pages.admin = async () => {
    try {
      await load();
      document.getElementById('adm-user-form').onsubmit = async (ev) => {
        ev.preventDefault();
        const fd = new FormData(ev.target);
        try {
          const d = await send('/api/admin/users', 'POST', Object.fromEntries(fd.entries()));
          GP.setHTML(document.getElementById('adm-user-result'), d.password
            ? h`<p class="good">${L(`已建立 ${d.username}。初始密码（只显示这一次）：`, `${d.username} created. First password (shown once): `)}<code class="secret">${d.password}</code></p>`
            : h`<p class="good">${L(`已建立 ${d.username}`, `${d.username} created`)}</p>`);
          ev.target.reset(); await load();
        } catch (e) { result('adm-user-result', false, e.message); }
      };
      document.getElementById('adm-token-form').onsubmit = async (ev) => {
        ev.preventDefault();
        const fd = new FormData(ev.target);
        try {
          const d = await send('/api/admin/tokens', 'POST', { username: fd.get('username'), name: fd.get('name'), days: Number(fd.get('days')) });
          GP.setHTML(document.getElementById('adm-token-result'), h`<p class="good">${L(`${d.username} 的令牌（只显示这一次，请立即保存）：`, `Token for ${d.username} (shown once; keep it now): `)}<code class="secret">${d.token}</code></p>`);
          ev.target.reset(); await tokens();
        } catch (e) { result('adm-token-result', false, e.message); }
      };
    } catch (e) {
      const box = document.getElementById('page-error'); box.hidden = false; box.textContent = e.message;
    }
    document.body.dataset.ready = '1';
  };
})();
