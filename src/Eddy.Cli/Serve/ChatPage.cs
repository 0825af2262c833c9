namespace Eddy.Cli.Serve;

/// <summary>
/// The page of <c>/chat</c>: a name, a text box and the message list, with a little JavaScript that opens
/// <c>/ws/chat</c> on the page's own host (<c>wss:</c> when the page came over HTTPS). It sends
/// <c>{"name":…,"text":…}</c> and shows what arrives; names and text go into the page with <c>textContent</c>,
/// never as HTML, so a message cannot inject markup. A C# string, not a file: the binary serves it under AOT
/// with nothing next to it.
/// </summary>
internal static class ChatPage
{
    public const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Eddy chat</title>
        <style>
          body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 1rem auto; padding: 0 1rem; }
          #messages { list-style: none; padding: 0; border: 1px solid #ccc; height: 20rem; overflow-y: auto; }
          #messages li { padding: .2rem .5rem; border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
          #messages .name { font-weight: bold; margin-right: .5rem; }
          #messages .system { color: #777; font-style: italic; }
          form { display: flex; gap: .5rem; margin-top: .5rem; }
          #text { flex: 1; }
          #status { color: #555; }
        </style>
        </head>
        <body>
        <h1>Eddy chat</h1>
        <p id="status">connecting…</p>
        <ul id="messages"></ul>
        <form id="send">
          <input id="name" placeholder="name" maxlength="40" size="10" required>
          <input id="text" placeholder="message" maxlength="1000" autocomplete="off" required>
          <button type="submit">Send</button>
        </form>
        <script>
        "use strict";
        const list = document.getElementById("messages");
        const status = document.getElementById("status");
        const nameBox = document.getElementById("name");
        const textBox = document.getElementById("text");
        nameBox.value = localStorage.getItem("eddy-chat-name") || "guest" + Math.floor(Math.random() * 1000);

        // One entry: every piece of text goes in with textContent, never innerHTML.
        function show(name, text, isSystem) {
          const item = document.createElement("li");
          if (isSystem) {
            item.className = "system";
          } else {
            const who = document.createElement("span");
            who.className = "name";
            who.textContent = name;
            item.appendChild(who);
          }
          item.appendChild(document.createTextNode(text));
          list.appendChild(item);
          list.scrollTop = list.scrollHeight;
        }

        const scheme = location.protocol === "https:" ? "wss:" : "ws:";
        const socket = new WebSocket(scheme + "//" + location.host + "/ws/chat");
        socket.onopen = () => { status.textContent = "connected"; };
        socket.onclose = event => {
          status.textContent = "disconnected (" + event.code + (event.reason ? ": " + event.reason : "") + ")";
        };
        socket.onmessage = event => {
          let message = null;
          try { message = JSON.parse(event.data); } catch (e) { }
          if (message && typeof message.online === "number") {
            status.textContent = "connected, " + message.online + " online";
          } else if (message && typeof message.name === "string" && typeof message.text === "string") {
            show(message.name, message.text, false);
          } else {
            show("?", String(event.data), false);
          }
        };

        document.getElementById("send").addEventListener("submit", event => {
          event.preventDefault();
          if (socket.readyState !== WebSocket.OPEN || textBox.value === "") {
            return;
          }
          localStorage.setItem("eddy-chat-name", nameBox.value);
          socket.send(JSON.stringify({ name: nameBox.value, text: textBox.value }));
          textBox.value = "";
          textBox.focus();
        });
        </script>
        </body>
        </html>
        """;
}
