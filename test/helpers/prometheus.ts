import parsePrometheusTextFormat from "parse-prometheus-text-format";

/**
 * Reads a `/metrics` body the way Prometheus would. Every line is first checked against the
 * text exposition grammar (the parser below is lenient and would read garbage as a sample),
 * then parsed into families.
 */
const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
// Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
const VALUE = "(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[nN][aA][nN]|[-+]?[iI][nN][fF])";
const SAMPLE = new RegExp(`^${NAME}(?:\\{(?:${LABEL}(?:,${LABEL})*,?)?\\})? ${VALUE}(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP ${NAME} .*$`);
const TYPE = new RegExp(`^# TYPE ${NAME} (?:counter|gauge|histogram|summary|untyped)$`);

export type Families = ReturnType<typeof parsePrometheusTextFormat>;

export function parsePrometheus(text: string): Families {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) {
    if (line === "" || SAMPLE.test(line) || HELP.test(line) || TYPE.test(line)) continue;
    throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
  }
  return parsePrometheusTextFormat(text);
}

export function family(families: Families, name: string): Families[number] {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no metric ${name} in ${families.map((f) => f.name).join(", ")}`);
  return found;
}

/** The value of the sample with exactly these labels (0 when absent: a counter not yet touched). */
export function sampleValue(families: Families, name: string, labels: Record<string, string> = {}): number {
  const sample = family(families, name).metrics.find(
    (m) => JSON.stringify(sortKeys(m.labels ?? {})) === JSON.stringify(sortKeys(labels)),
  );
  return sample?.value === undefined ? 0 : Number(sample.value);
}

/** Observations of a histogram (all label sets together). */
export function histogramCount(families: Families, name: string): number {
  return family(families, name).metrics.reduce((sum, m) => sum + Number(m.count ?? 0), 0);
}

function sortKeys(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}
