export function BrandMark() {
  return (
    <svg class="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
      <circle cx="16" cy="16" r="13" fill="none" stroke="currentColor" stroke-width="3" />
      <path d="M16 16 L25 9" stroke="currentColor" stroke-width="3" stroke-linecap="round" />
      <circle cx="16" cy="16" r="3" fill="currentColor" />
    </svg>
  );
}
