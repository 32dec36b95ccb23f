// ipywidgets' html-manager typesets widget labels with MathJax 2's `MathJax.Hub.Queue`; this site runs MathJax 3.
// Give MathJax 3 a Hub.Queue that typesets the element, so labels with $math$ render and nothing throws.
(function () {
  function patch() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {Queue: function (job) {
      var el = job && job[2];
      if (!el || !window.MathJax.typesetPromise) return;
      (window.MathJax.startup && window.MathJax.startup.promise || Promise.resolve())
        .then(function () { return window.MathJax.typesetPromise([el]); }).catch(function () {});
    }};
  }
  patch();
  document.addEventListener('DOMContentLoaded', patch);
  window.addEventListener('load', patch);
})();
