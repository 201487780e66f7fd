// Placeholder until the widget lands.
(function () { "use strict"; var CSS = "__COLLOQUY_CSS__"; void CSS; })();
