// paperboy: a little progressive JavaScript. Every page works without it.
// - Votes are sent in the background and the count updates in place.
// - Keyboard: "/" focuses search; "j"/"k" move between papers; "v" votes for the focused paper.
// - Forms with a timezone field get the browser's timezone.
(function () {
  'use strict';

  function voteForm(form) {
    form.addEventListener('submit', function (event) {
      var button = form.querySelector('button');
      var action = form.querySelector('input[name="action"]');
      var token = form.querySelector('input[name="_csrf"]');
      if (!button || !action || !token || !window.fetch) return;
      event.preventDefault();
      var up = action.value === 'up';
      button.disabled = true;
      fetch(form.getAttribute('data-api'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': token.value },
        credentials: 'same-origin',
        body: JSON.stringify({ vote: up }),
      })
        .then(function (res) {
          if (!res.ok) throw new Error('vote failed: ' + res.status);
          return res.json();
        })
        .then(function (data) {
          button.setAttribute('aria-pressed', data.voted ? 'true' : 'false');
          action.value = data.voted ? 'down' : 'up';
          var count = button.querySelector('.count');
          if (count) count.textContent = String(data.votes);
          var label = button.querySelector('.visually-hidden');
          if (label) label.textContent = data.voted ? 'Withdraw your vote' : 'Vote for this paper';
          var total = document.querySelector('.paper-page [data-votes]');
          if (total) total.textContent = String(data.votes);
          var live = document.getElementById('live');
          var n = data.votes + (data.votes === 1 ? ' vote' : ' votes');
          if (live) live.textContent = data.voted ? 'Vote counted: ' + n : 'Vote withdrawn: ' + n;
        })
        .catch(function () {
          form.submit();
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  }

  function init() {
    var forms = document.querySelectorAll('form.vote-form');
    for (var i = 0; i < forms.length; i++) voteForm(forms[i]);

    var tz = document.querySelectorAll('input[name="timezone"]');
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch {
      zone = '';
    }
    for (var t = 0; t < tz.length; t++) if (!tz[t].value) tz[t].value = zone;

    var current = -1;
    document.addEventListener('keydown', function (event) {
      var target = event.target;
      var typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable);
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      var papers = document.querySelectorAll('.paper');
      if (event.key === '/') {
        var box = document.querySelector('input[type="search"]');
        if (box) {
          event.preventDefault();
          box.focus();
        }
      } else if ((event.key === 'j' || event.key === 'k') && papers.length) {
        current = Math.max(0, Math.min(papers.length - 1, current + (event.key === 'j' ? 1 : -1)));
        var link = papers[current].querySelector('h2 a, h3 a');
        if (link) link.focus();
      } else if (event.key === 'v' && current >= 0 && papers[current]) {
        var button = papers[current].querySelector('.vote-form button');
        if (button) button.click();
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
