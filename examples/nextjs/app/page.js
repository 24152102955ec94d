export default function Home() {
  return <p>POST /api/openai or /api/ai with {'{"prompt": "Hi", "stream": false}'}</p>;
}
