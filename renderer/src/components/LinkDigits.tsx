/** The 6 digits both devices show while linking, large, for the person to compare digit by digit. */
export function LinkDigits({ code }: { code: string }) {
  return (
    <p className="link-digits" data-testid="link-digits">
      {code}
    </p>
  )
}
