// One tree of errors for everything that can go wrong between the plugin and the server. Messages
// name the server by its URL without credentials and never carry the access token.

export class GaugeError extends Error {
  /** @type {"offline" | "auth" | "http" | "shape" | "settings"} */
  kind = "http";

  /** A few words for a dial's footer (the message is for the log and the settings page). */
  get short() {
    return this.message;
  }
}

/** The server did not answer: refused, unreachable or timed out. */
export class OfflineError extends GaugeError {
  kind = /** @type {const} */ ("offline");
}

/** The server wants a token (none sent) or refused the one sent. */
export class AuthError extends GaugeError {
  kind = /** @type {const} */ ("auth");

  /**
   * @param {string} message
   * @param {boolean} tokenSent
   */
  constructor(message, tokenSent) {
    super(message);
    this.tokenSent = tokenSent;
  }
}

/** Any other HTTP failure (404 for an unknown agent, 421, 5xx). */
export class HttpError extends GaugeError {
  kind = /** @type {const} */ ("http");

  /**
   * @param {string} message
   * @param {number} status
   */
  constructor(message, status) {
    super(message);
    this.status = status;
  }

  get short() {
    return `server error (HTTP ${this.status})`;
  }
}

/** The answer was not the JSON this plugin reads (another program on that port, a proxy's page). */
export class ShapeError extends GaugeError {
  kind = /** @type {const} */ ("shape");

  get short() {
    return "not an agentgauge server";
  }
}

/** A setting that cannot work (a server URL that is not http(s), credentials inside the URL). */
export class SettingsError extends GaugeError {
  kind = /** @type {const} */ ("settings");

  get short() {
    return "check the server URL";
  }
}
