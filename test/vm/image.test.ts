import { describe, expect, it } from "vitest";
import { mirrorIn } from "./image.js";

describe("mirrorIn: the bookworm mirror of apt sources", () => {
  it("reads deb822 stanzas and skips the security archive", () => {
    const text = [
      "Types: deb",
      "URIs: http://deb.debian.org/debian-security",
      "Suites: bookworm-security",
      "Components: main",
      "",
      "Types: deb",
      "URIs: http://deb.debian.org/debian",
      "Suites: bookworm bookworm-updates",
      "Components: main",
    ].join("\n");
    expect(mirrorIn(text)).toBe("http://deb.debian.org/debian");
  });

  it("reads one-line sources, with options", () => {
    expect(mirrorIn("deb [arch=amd64] http://mirror.example/debian bookworm main\n")).toBe(
      "http://mirror.example/debian",
    );
  });

  it("finds nothing in sources of other suites or archives", () => {
    expect(mirrorIn("deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n")).toBeUndefined();
    expect(mirrorIn("deb http://deb.debian.org/debian trixie main\n")).toBeUndefined();
  });
});
