import pkg from "../package.json";

export const TALON_VERSION: string = pkg.version;
