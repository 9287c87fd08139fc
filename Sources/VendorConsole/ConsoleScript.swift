/// The console's one script, served by the Vendor at `/console/assets/console.js` (`API.Console.script`) to
/// signed-in pages under the Content-Security-Policy `script-src 'self'`: no inline script, no other origin.
///
/// Progressive enhancement only: every page works, and says the same, without it. What it adds is a Copy button
/// beside each value a page marks `data-copy` (a lease's id and blocks, the tag to put on a VNet), which puts the
/// value on the clipboard and says so in a live region; where the clipboard is refused it selects the text
/// instead, for Ctrl+C. The button exists only where the script runs, so no page shows a button that does nothing.
enum ConsoleScript {
    static let path = "/console/assets/console.js"

    static let source = """
        // ipam console: progressive enhancement, served by the Vendor. Every page works without it.
        (function () {
          "use strict";
          var marked = document.querySelectorAll("[data-copy]");
          if (!marked.length) { return; }
          var status = document.createElement("p");
          status.className = "copy-status";
          status.setAttribute("role", "status");
          document.body.appendChild(status);
          function say(text) { status.textContent = text; }
          function select(element) {
            var range = document.createRange();
            range.selectNodeContents(element);
            var selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
          }
          Array.prototype.forEach.call(marked, function (element) {
            var value = element.getAttribute("data-copy") || element.textContent.trim();
            if (!value) { return; }
            var text = document.createElement("span");
            while (element.firstChild) { text.appendChild(element.firstChild); }
            element.appendChild(text);
            var button = document.createElement("button");
            button.type = "button";
            button.className = "copy";
            button.textContent = "Copy";
            button.setAttribute("aria-label", "Copy " + value);
            button.addEventListener("click", function () {
              var copied = navigator.clipboard && window.isSecureContext
                ? navigator.clipboard.writeText(value) : Promise.reject(new Error("no clipboard"));
              copied.then(function () { say("Copied " + value + "."); }, function () {
                select(text);
                say("Selected " + value + ": press Ctrl+C to copy it.");
              });
            });
            element.appendChild(document.createTextNode(" "));
            element.appendChild(button);
          });
        })();

        """
}
