/** Plain HTTP as a browser-less person sees it: no redirects followed, the cookies set, the JSON body if any. */
export interface Answer {
  status: number;
  location: string | null;
  cookies: string[];
  body: Record<string, unknown>;
}

export async function http(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  return {
    status: response.status,
    location: response.headers.get('location'),
    cookies: response.headers.getSetCookie(),
    body,
  };
}

export const cookie = (answer: Answer, name: string) =>
  answer.cookies
    .find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`))
    ?.split(';')[0]
    .slice(name.length + 1);
