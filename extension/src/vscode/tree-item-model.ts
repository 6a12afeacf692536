/** A tree item as plain data; tree-adapter.ts turns it into a `vscode.TreeItem`. */
export interface TreeItemModel {
  /** Stable across refreshes, so VS Code keeps selection and expansion. */
  id: string;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip: string;
  /** Drives the `view/item/context` menus in package.json (`viewItem == ...`). */
  contextValue: string;
  /** A codicon id. */
  icon: string;
  collapsible: "none" | "collapsed" | "expanded";
  /** What a click does. */
  command?: { command: string; title: string };
  /** A workspace-relative path the item stands for, to show its file icon. */
  resourcePath?: string;
}
