// Deelwijs: the pages work without JavaScript; this file only tells the style sheet that
// scripts run (so that buttons needed only without JavaScript can be hidden: htmx refreshes
// the form by itself then). No inline scripts: the Content Security Policy forbids them.
document.documentElement.classList.add("dw-js");
